"""Models of the contacts app; see its issue for what lands here."""
from django.db import models  # noqa: F401
