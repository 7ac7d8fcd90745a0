"""Models of the places app; see its issue for what lands here."""
from django.db import models  # noqa: F401
