"""Serializers of the contacts API: every contact carries its four workflows' statuses and errors (B-3)."""
from __future__ import annotations

from rest_framework import serializers

from contacts.models import Contact, ContactSource, EnrichmentStatus, SocialLink, Suppression
from contacts.models import WORKFLOWS
from pages.serializers import DomainRefSerializer  # one schema component for every domain reference

_ENGINE_SUFFIXES = ("curation_status", "processing_status", "processing_error", "error_class", "attempts",
                    "queued_at", "processed_at")
WORKFLOW_FIELDS = [f"{name}_{suffix}" for name in WORKFLOWS for suffix in _ENGINE_SUFFIXES]


class ContactSourceSerializer(serializers.ModelSerializer):
    page_url = serializers.CharField(source="page.url", read_only=True)
    page_category = serializers.CharField(source="page.category", read_only=True)

    class Meta:
        model = ContactSource
        fields = ["page", "page_url", "page_category", "method", "value_as_written", "first_seen", "last_seen",
                  "still_on_page"]
        read_only_fields = fields


CONTACT_FIELDS = [
    "id", "kind", "value", "normalized", "domain", "business", "is_role", "is_free_provider", "on_domain",
    "is_disposable", "number_type", "certain", "name", "title", "confidence", "first_seen_at", "last_seen_at",
    "validation_result", "validation_reason", "mx_hosts", "validated_at",
    "brevo_remote_id", "brevo_synced_at", "brevo_sync_detail", "hubspot_remote_id", "hubspot_synced_at",
    "hubspot_sync_detail", "webhook_delivery_id", "webhook_synced_at", "webhook_sync_detail",
    "enrichment_status", "enrichment_completed_at", "last_enrichment_id",
    *WORKFLOW_FIELDS, "created_at", "updated_at",
]


class ContactSerializer(serializers.ModelSerializer):
    domain = DomainRefSerializer(read_only=True)
    business = serializers.PrimaryKeyRelatedField(read_only=True)
    found_on_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Contact
        fields = [*CONTACT_FIELDS, "found_on_count"]
        read_only_fields = fields


class ContactDetailSerializer(ContactSerializer):
    sources = ContactSourceSerializer(many=True, read_only=True)

    class Meta(ContactSerializer.Meta):
        fields = [*ContactSerializer.Meta.fields, "sources", "validation_history", "enrichment_error",
                  "enriched_phone", "enriched_address", "enriched_social_profiles", "enriched_company",
                  "enriched_additional_emails", "enrichment_confidence", "enrichment_sources", "enrichment_metadata"]
        read_only_fields = fields


class SocialLinkSerializer(serializers.ModelSerializer):
    class Meta:
        model = SocialLink
        fields = ["id", "domain", "business", "network", "url", "handle", "method", "page", "first_seen", "last_seen"]
        read_only_fields = fields


class SuppressionSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Suppression
        fields = ["id", "kind", "value", "reason", "created_by", "created_at"]
        read_only_fields = fields


class SuppressionCreateSerializer(serializers.Serializer):
    value = serializers.CharField(max_length=500, required=False,
                                  help_text="An email address, a domain, \"@domain\" or a URL.")
    values = serializers.ListField(child=serializers.CharField(max_length=500), required=False, max_length=10_000)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        values = list(attrs.get("values") or [])
        if attrs.get("value"):
            values.insert(0, attrs["value"])
        if not values:
            raise serializers.ValidationError("Give `value` or `values`")
        attrs["all_values"] = values
        return attrs


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["csv", "xlsx"], default="csv")
    columns = serializers.CharField(required=False, allow_blank=True, default="")


# --- the enrichment callback -----------------------------------------------------------------------

class EnrichedAddressSerializer(serializers.Serializer):
    street = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=500)
    city = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=200)
    state = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=200)
    zip = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=30)
    country = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=100)


class EnrichedCompanySerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=500)
    website = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=2000)
    industry = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=200)
    size = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=5000)


class EnrichedDataSerializer(serializers.Serializer):
    phone = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=50)
    address = EnrichedAddressSerializer(required=False, allow_null=True)
    social_profiles = serializers.DictField(child=serializers.CharField(max_length=1000, allow_blank=True),
                                            required=False, allow_null=True)
    company = EnrichedCompanySerializer(required=False, allow_null=True)
    additional_emails = serializers.ListField(child=serializers.EmailField(), required=False, allow_null=True,
                                              max_length=100)
    confidence_score = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100)
    sources = serializers.ListField(child=serializers.CharField(max_length=500), required=False, allow_null=True,
                                    max_length=100)


class EnrichmentMetadataSerializer(serializers.Serializer):
    enrichment_duration_seconds = serializers.FloatField(required=False, allow_null=True, min_value=0)
    api_calls_made = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    cost_estimate = serializers.FloatField(required=False, allow_null=True, min_value=0)


class EnrichmentCallbackSerializer(serializers.Serializer):
    """The body n8n (or any enrichment service) posts back (the original's format)."""

    contact_id = serializers.UUIDField()
    enrichment_id = serializers.CharField(max_length=200)
    status = serializers.ChoiceField(choices=EnrichmentStatus.values)
    timestamp = serializers.DateTimeField(required=False)
    enriched_data = EnrichedDataSerializer(required=False, allow_null=True)
    metadata = EnrichmentMetadataSerializer(required=False, allow_null=True)
    error = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object"]})
        return super().to_internal_value(data)


class EnrichmentResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    contact_id = serializers.CharField()
    enrichment_id = serializers.CharField()
    duplicate = serializers.BooleanField()
    message = serializers.CharField()
    updated_fields = serializers.ListField(child=serializers.CharField())
