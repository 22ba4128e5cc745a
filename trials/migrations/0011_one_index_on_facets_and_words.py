from django.db import migrations

TABLE = "trials_searchdocument"


def combine(apps, schema_editor):
    # PostgreSQL only. Words and filter values in one GIN index: a search for a rare word (or a registry id) with a
    # common filter value is answered inside the index, which steps through the value's long list of trials only
    # where the word's few trials are, instead of reading both lists whole into two bitmaps to intersect them
    # (measured at 500,000 trials: an id with "status=RECRUITING", 10 ms to 0.5 ms). Words alone use it as well.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TABLE}_facets_document_idx ON {TABLE} USING gin (facets, document)"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_facets_idx")
    schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_sample_document_idx")


def split(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_facets_idx ON {TABLE} USING gin (facets)")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TABLE}_sample_document_idx ON {TABLE} USING gin (sample, document)"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_facets_document_idx")


class Migration(migrations.Migration):
    dependencies = [("trials", "0010_store_incompressible_columns_uncompressed")]

    operations = [migrations.RunPython(combine, split)]
