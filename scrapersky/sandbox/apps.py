from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "scrapersky.sandbox"
    label = "sandbox"
    verbose_name = "Offline sandbox"
