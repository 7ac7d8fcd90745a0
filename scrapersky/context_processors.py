from django.conf import settings


def banner(request) -> dict:
    """Every page says when the app runs against the offline sandbox instead of the internet."""
    return {"sandbox_enabled": getattr(settings, "SANDBOX_ENABLED", False)}
