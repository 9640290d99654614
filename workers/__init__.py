"""Queue adapter: RQ workers on Redis, or an in-process thread when no Redis is configured."""
