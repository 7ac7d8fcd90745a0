"""Models of the contacts app: WF8 (`contact_validation`, `brevo_sync`, `hubspot_sync`, `webhook_sync`).

- `Contact`: one row per (domain, kind, normalised value): an email address
  (lower-cased), a phone number or a fax number (E.164) found on a domain's pages. It carries
  four independent workflows, each with its own statuses, so a contact can be
  synced to several destinations and a failure in one retries only that one
  (original defect B-4).
- `ContactSource`: provenance, one row per (contact, page, extraction method)
  with first seen / last seen / still on page. A re-scrape updates these and
  never duplicates a contact.
- `SocialLink`: social profiles of a domain (or business), unique per (domain, url).
- `Suppression`: the do-not-contact list (emails and domains) every sync honours.
- `EnrichmentEvent`: each enrichment callback received (idempotent on its id).

Hooks and services never `save()` a whole Contact: four workflows may run on the
same row at once, so every write is an UPDATE of the fields it owns.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q

from curation.fields import BaseModel, workflow_constraints, workflow_fields, workflow_indexes

WORKFLOWS = ("contact_validation", "brevo_sync", "hubspot_sync", "webhook_sync")


class ContactKind(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    # Stored and exported, validated as a number, never synced: a fax is not a phone (issue #12).
    FAX = "fax", "Fax"


class ValidationResult(models.TextChoices):
    """The outcome of `contact_validation` (empty = never validated).

    - valid: email syntax is fine and the domain accepts mail (MX, or A/AAAA
      fallback), not disposable; phone: a valid number in its numbering plan.
    - invalid: bad syntax, or DNS says definitely no mail (NXDOMAIN, null MX,
      no MX/A/AAAA); phone: unparseable, impossible or invalid.
    - risky: deliverable or unknown, but a disposable (throw-away) address.
    - unknown: DNS could not answer (timeout, SERVFAIL, no nameserver). Never
      promoted to valid; validate again later.
    """

    VALID = "valid", "Valid"
    INVALID = "invalid", "Invalid"
    RISKY = "risky", "Risky (disposable)"
    UNKNOWN = "unknown", "Unknown (DNS gave no answer)"


class ExtractionMethod(models.TextChoices):
    MAILTO = "mailto", "mailto: link"
    TEL = "tel", "tel: link"
    JSONLD = "jsonld", "JSON-LD (schema.org)"
    MICRODATA = "microdata", "Microdata"
    CFEMAIL = "cfemail", "Cloudflare-protected email"
    ENCODED = "encoded", "CMS email encoder (TYPO3, Joomla)"
    TEXT = "text", "Visible text"
    ENTITY = "entity", "HTML entities"
    OBFUSCATED = "obfuscated", "[at]/[dot] obfuscation"
    MANUAL = "manual", "Entered by hand (API)"  # contacts.manual: never marked gone by a re-scrape


class EnrichmentStatus(models.TextChoices):
    COMPLETE = "complete", "Complete"
    PARTIAL = "partial", "Partial"
    FAILED = "failed", "Failed"


class Contact(
    workflow_fields("contact_validation"),
    workflow_fields("brevo_sync"),
    workflow_fields("hubspot_sync"),
    workflow_fields("webhook_sync"),
    BaseModel,
):
    """An email address or phone number of a domain, with its provenance (`sources`)."""

    domain = models.ForeignKey("pages.Domain", on_delete=models.CASCADE, related_name="contacts")
    business = models.ForeignKey("places.LocalBusiness", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="contacts",
                                 help_text="Set when the domain belongs to exactly one business.")
    kind = models.CharField(max_length=10, choices=ContactKind.choices, db_index=True)
    value = models.CharField(max_length=320, help_text="As written on the page where it was first found.")
    normalized = models.CharField(max_length=320, help_text="Lower-cased email or E.164 number: the dedupe key.")
    # Classification
    is_role = models.BooleanField("role address", default=False, db_index=True,
                                  help_text="info@, sales@, office@…: a function, not a person.")
    is_free_provider = models.BooleanField("free provider", default=False, help_text="gmail.com, web.de…")
    on_domain = models.BooleanField(default=False, help_text="The email's domain is the site's own domain.")
    is_disposable = models.BooleanField("disposable", default=False)
    number_type = models.CharField(max_length=30, blank=True, default="",
                                   help_text="Phones: mobile, fixed_line, toll_free, voip…")
    certain = models.BooleanField(default=True, help_text="Phones found only in running text are uncertain.")
    # The person behind it, where marked up
    name = models.CharField(max_length=200, blank=True, default="")
    title = models.CharField("job title", max_length=200, blank=True, default="")
    confidence = models.FloatField(default=0.0)
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # contact_validation results
    validation_result = models.CharField(max_length=10, choices=ValidationResult.choices, blank=True, default="",
                                         db_index=True)
    validation_reason = models.TextField(blank=True, default="")
    mx_hosts = models.JSONField(default=list, blank=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    validation_history = models.JSONField(default=list, blank=True, help_text="The last checks, newest first.")
    # Sync results, one set per destination
    brevo_remote_id = models.CharField("Brevo id", max_length=100, blank=True, default="")
    brevo_synced_at = models.DateTimeField(null=True, blank=True)
    brevo_sync_detail = models.CharField(max_length=500, blank=True, default="")
    hubspot_remote_id = models.CharField("HubSpot id", max_length=100, blank=True, default="")
    hubspot_synced_at = models.DateTimeField(null=True, blank=True)
    hubspot_sync_detail = models.CharField(max_length=500, blank=True, default="")
    webhook_delivery_id = models.CharField(max_length=200, blank=True, default="")
    webhook_synced_at = models.DateTimeField(null=True, blank=True)
    webhook_sync_detail = models.CharField(max_length=500, blank=True, default="")
    # Enrichment results received by POST /api/v3/webhooks/enrichment (only provided fields are written)
    enrichment_status = models.CharField(max_length=10, choices=EnrichmentStatus.choices, blank=True, default="")
    enrichment_completed_at = models.DateTimeField(null=True, blank=True)
    last_enrichment_id = models.CharField(max_length=200, blank=True, default="")
    enrichment_error = models.TextField(blank=True, default="")
    enriched_phone = models.CharField(max_length=50, blank=True, default="")
    enriched_address = models.JSONField(default=dict, blank=True)
    enriched_social_profiles = models.JSONField(default=dict, blank=True)
    enriched_company = models.JSONField(default=dict, blank=True)
    enriched_additional_emails = models.JSONField(default=list, blank=True)
    enrichment_confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    enrichment_sources = models.JSONField(default=list, blank=True)
    enrichment_metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["domain__domain", "kind", "normalized"]
        indexes = [index for name in WORKFLOWS for index in workflow_indexes(name)]
        constraints = [
            *(constraint for name in WORKFLOWS for constraint in workflow_constraints(name)),
            models.UniqueConstraint(fields=["domain", "kind", "normalized"], name="contact_domain_kind_value_unique"),
            models.CheckConstraint(condition=~Q(normalized=""), name="contact_normalized_not_empty"),
        ]

    def __str__(self) -> str:
        return self.normalized

    @property
    def email(self) -> str | None:
        return self.normalized if self.kind == ContactKind.EMAIL else None

    @property
    def phone(self) -> str | None:
        return self.normalized if self.kind == ContactKind.PHONE else None


class ContactSource(models.Model):
    """Where a contact was found: one row per (contact, page, method)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="sources")
    page = models.ForeignKey("pages.Page", on_delete=models.CASCADE, related_name="contact_sources")
    method = models.CharField(max_length=20, choices=ExtractionMethod.choices)
    value_as_written = models.CharField(max_length=320, blank=True, default="")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    still_on_page = models.BooleanField(default=True, db_index=True,
                                        help_text="No: the last scrape of the page did not find it any more.")

    class Meta:
        verbose_name = "contact source"
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "page", "method"], name="contact_source_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} on {self.page_id} ({self.method})"


class SocialLink(BaseModel):
    """A social profile of a domain (and its business, where known), unique per (domain, url)."""

    domain = models.ForeignKey("pages.Domain", on_delete=models.CASCADE, related_name="social_links")
    business = models.ForeignKey("places.LocalBusiness", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="social_profiles")
    network = models.CharField(max_length=20, db_index=True)
    url = models.URLField(max_length=1000)
    handle = models.CharField(max_length=200, blank=True, default="")
    method = models.CharField(max_length=20, blank=True, default="")
    location = models.CharField(
        max_length=20, blank=True, default="",
        help_text="Where on the page it was found: jsonld, microdata, header, footer, nav, social, contact, aside, "
                  "article, main or body.",
    )
    page = models.ForeignKey("pages.Page", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             help_text="The page it was last found on.")
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "social link"
        ordering = ["domain__domain", "network", "url"]
        constraints = [models.UniqueConstraint(fields=["domain", "url"], name="social_link_domain_url_unique")]

    def __str__(self) -> str:
        return self.url


class SuppressionKind(models.TextChoices):
    EMAIL = "email", "Email address"
    DOMAIN = "domain", "Domain (and its subdomains)"


class Suppression(BaseModel):
    """Do not contact: an email address, or every address of a domain. Every sync checks it first."""

    kind = models.CharField(max_length=10, choices=SuppressionKind.choices)
    value = models.CharField(max_length=320, help_text="Normalised: a lower-cased address or a registrable domain.")
    reason = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["kind", "value"]
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="suppression_kind_value_unique")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class EnrichmentEvent(models.Model):
    """One enrichment callback applied to a contact; the id makes redeliveries harmless."""

    enrichment_id = models.CharField(max_length=200, unique=True)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="enrichment_events")
    status = models.CharField(max_length=10, choices=EnrichmentStatus.choices)
    received_at = models.DateTimeField(auto_now_add=True)
    updated_fields = models.JSONField(default=list, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return self.enrichment_id
