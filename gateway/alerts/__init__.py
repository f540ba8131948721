"""Service recovery: alert and event rules, and their signed webhook and email deliveries."""
