from django.db import migrations

INDEX = "trials_searchdocument_document_idx"


def drop(apps, schema_editor):
    # PostgreSQL only: the (sample, document) GIN index serves every search, so this one only slowed writes.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON trials_searchdocument USING gin (document)")


class Migration(migrations.Migration):
    dependencies = [("trials", "0006_primary_purpose_ect_label")]

    operations = [migrations.RunPython(drop, create)]
