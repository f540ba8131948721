"""The email channel: survey invitations composed and sent."""
