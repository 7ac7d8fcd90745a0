"""Serializers of the pages resources: facts, both workflow statuses and the error fields (B-3's missing columns)."""
from __future__ import annotations

from rest_framework import serializers

from pages.models import Domain, Page, PageContent, SitemapFile

_ENGINE_SUFFIXES = ("processing_status", "processing_error", "error_class", "attempts", "queued_at", "processed_at")


def _workflow_fields(name: str) -> list[str]:
    return [f"{name}_curation_status", *(f"{name}_{s}" for s in _ENGINE_SUFFIXES)]


class DomainRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    domain = serializers.CharField()


class DomainSerializer(serializers.ModelSerializer):
    business_count = serializers.IntegerField(read_only=True, default=None)
    page_count = serializers.IntegerField(read_only=True, default=None)
    sitemap_file_count = serializers.IntegerField(read_only=True, default=None)
    suggested_page_count = serializers.IntegerField(source="suggested_count", read_only=True, default=None)

    class Meta:
        model = Domain
        fields = [
            "id", "domain", "kind", "source", "homepage_url", "title", "meta_description", "language",
            "last_fetched_at", "has_sitemap", "sitemap_count", "discovery_note", "discovered_at", "business_count",
            "sitemap_file_count", "page_count", "suggested_page_count", *_workflow_fields("sitemap_discovery"), "created_at", "updated_at",
        ]
        read_only_fields = fields


class DomainSubmitSerializer(serializers.Serializer):
    domains = serializers.ListField(
        child=serializers.CharField(max_length=2000, allow_blank=True, trim_whitespace=True), allow_empty=False,
        max_length=10_000, help_text='Domain names or website URLs, e.g. ["example.com", "https://www.foo.co.uk/x"].')


class SubmitEntrySerializer(serializers.Serializer):
    input = serializers.CharField()
    domain = serializers.CharField()
    id = serializers.UUIDField()


class SubmitErrorSerializer(serializers.Serializer):
    input = serializers.CharField(allow_blank=True)
    error = serializers.CharField()


class DomainSubmitResultSerializer(serializers.Serializer):
    created = SubmitEntrySerializer(many=True)
    existing = SubmitEntrySerializer(many=True)
    errors = SubmitErrorSerializer(many=True)


class SitemapFileSerializer(serializers.ModelSerializer):
    domain = DomainRefSerializer(read_only=True)
    parent = serializers.PrimaryKeyRelatedField(read_only=True)
    page_count = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = SitemapFile
        fields = [
            "id", "domain", "url", "sitemap_type", "discovered_how", "parent", "depth", "url_count", "size_bytes",
            "decompressed_bytes", "is_gzip", "truncated", "last_modified", "fetched_at", "fetch_error", "warnings",
            "pages_imported", "pages_new", "import_note", "page_count", *_workflow_fields("sitemap_import"),
            "created_at", "updated_at",
        ]
        read_only_fields = fields


class PageContentSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = PageContent
        fields = ["final_url", "status_code", "content_type", "content_hash", "size_bytes", "fetched_at", "title",
                  "meta_description", "h1", "canonical_url", "language", "word_count", "social_links"]
        read_only_fields = fields


class PageSerializer(serializers.ModelSerializer):
    domain = DomainRefSerializer(read_only=True)
    sitemap_file = serializers.PrimaryKeyRelatedField(read_only=True)
    content = serializers.SerializerMethodField()

    class Meta:
        model = Page
        fields = [
            "id", "domain", "url", "sitemap_file", "source", "lastmod", "changefreq", "priority", "alternates",
            "category", "confidence", "scrape_priority", "path_depth", "suggested", "content",
            *_workflow_fields("page_scrape"), "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_content(self, obj) -> dict | None:
        content = getattr(obj, "content", None) if hasattr(obj, "content") else None
        return PageContentSummarySerializer(content).data if content is not None else None


class PageDetailSerializer(PageSerializer):
    """The detail view adds the stored HTML when asked (`?html=1`)."""

    html = serializers.SerializerMethodField()

    class Meta(PageSerializer.Meta):
        fields = [*PageSerializer.Meta.fields, "html"]
        read_only_fields = fields

    def get_html(self, obj) -> str | None:
        request = self.context.get("request")
        if request is None or request.query_params.get("html") not in ("1", "true", "yes"):
            return None
        content = getattr(obj, "content", None) if hasattr(obj, "content") else None
        return content.html if content is not None else None
