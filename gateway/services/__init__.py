"""The outside services a process talks to, each made once per app: the Redis connection
and its job queues, and the delivery providers (SMS, voice, email)."""
