"""Settings of the pages app (read from the environment; documented in .env.example)."""
