"""Settings of the places app (read from the environment; documented in .env.example)."""
