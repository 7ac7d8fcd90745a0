"""The shipped groups: curator, operator, viewer (scrapersky/access/roles.py says who may do what)."""
from django.db import migrations


def create_groups(apps, schema_editor):
    from scrapersky.access.roles import sync_groups

    sync_groups(apps, using=schema_editor.connection.alias)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(
        name__in=["curator", "operator", "viewer"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("curation", "0001_initial"),
        ("places", "0001_initial"),
        ("pages", "0002_sitemap_files_pages"),
        ("contacts", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
