"""Settings of the contacts app (read from the environment; documented in .env.example)."""
