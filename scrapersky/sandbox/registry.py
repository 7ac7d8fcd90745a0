"""The sandbox's servers: which WSGI app runs on which loopback port (a setting each)."""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SandboxServer:
    name: str
    factory: str  # dotted path of a callable returning a WSGI app
    port_setting: str

    @property
    def port(self) -> int:
        return int(getattr(settings, self.port_setting))

    def make_app(self):
        return import_string(self.factory)()


SERVERS = [
    SandboxServer("Google Places API (New)", "scrapersky.sandbox.places_api.make_app", "SANDBOX_PLACES_PORT"),
    SandboxServer("business websites", "scrapersky.sandbox.websites.make_app", "SANDBOX_WEBSITES_PORT"),
    SandboxServer("CRMs and webhook receiver", "scrapersky.sandbox.crm.make_app", "SANDBOX_CRM_PORT"),
]
