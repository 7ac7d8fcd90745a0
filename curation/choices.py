"""The two status vocabularies shared by every workflow (DESIGN §2).

Stored values are exactly these strings; there is no second copy anywhere
(the original's "Complete" vs "Completed" enum hell is the defect removed here).
"""
from django.db import models


class CurationStatus(models.TextChoices):
    """Set by people."""

    NEW = "New", "New"
    SELECTED = "Selected", "Selected"
    MAYBE = "Maybe", "Maybe"
    REJECTED = "Rejected", "Rejected"
    ARCHIVED = "Archived", "Archived"


class ProcessingStatus(models.TextChoices):
    """Set by the system. NULL (never queued) is the fifth, empty state."""

    QUEUED = "Queued", "Queued"
    PROCESSING = "Processing", "Processing"
    COMPLETED = "Completed", "Completed"
    ERROR = "Error", "Error"


# Accepted on input for clients written for the original system; never stored.
CURATION_ALIASES = {"Not a Fit": CurationStatus.REJECTED}
