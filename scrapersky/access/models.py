"""No models: the app holds the shipped groups (roles.py); this module lets post_migrate reach it."""
