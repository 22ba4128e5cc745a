from django.db import migrations

# PostgreSQL tries to compress every value of a row over 2 kB. These never compress: sources and snapshots are
# zlib-compressed already, and a search document (a sorted list of distinct words and positions) gains too
# little for PostgreSQL to keep the result. The attempt cost 4% of the database's time in an ingest.
UNCOMPRESSED = (
    ("trials_searchdocument", "document"),
    ("trials_sourcerecord", "content"),
    ("trials_sourcerecord", "snapshot"),
)


def store(storage: str):
    def alter(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for table, column in UNCOMPRESSED:
                schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE {storage}")

    return alter


class Migration(migrations.Migration):
    dependencies = [("trials", "0009_search_document_sort_keys")]

    operations = [migrations.RunPython(store("EXTERNAL"), store("EXTENDED"))]
