import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the admin account if no superuser exists (ADMIN_USERNAME, ADMIN_PASSWORD or a generated one)."

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("admin account: exists (unchanged)")
            return
        username = settings.ADMIN_USERNAME
        given = os.environ.get("ADMIN_PASSWORD")
        password = given or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        if given:  # nothing secret is printed, so nothing is "shown only once"
            self.stdout.write(self.style.SUCCESS(f"admin account created: user {username!r}, password from ADMIN_PASSWORD"))
            return
        self.stdout.write(self.style.SUCCESS(f"admin account created: user {username!r}, password {password}"))
        self.stdout.write("  (the password is shown only this once)")
