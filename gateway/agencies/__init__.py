"""Agencies: their API keys and the audit log of what was done in their name."""
