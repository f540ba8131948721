"""The HTTP plumbing every blueprint shares: health, readiness, metrics, request logs,
security headers, rate limits and JSON errors."""
