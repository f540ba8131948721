"""Service-recovery cases: opened by a flow's alert rule or by staff, worked from the
dashboard or the API, replied to the respondent, escalated when overdue, and counted."""
