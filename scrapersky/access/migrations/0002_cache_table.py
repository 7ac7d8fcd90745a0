"""The database cache table the throttles count in (when REDIS_URL is not set): created by `migrate`, so
that no deployment step can be forgotten. Idempotent: `createcachetable` skips a table that exists."""
from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("access", "0001_groups")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
