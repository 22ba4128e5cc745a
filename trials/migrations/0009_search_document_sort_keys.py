from django.db import migrations

TABLE = "trials_searchdocument"
COLUMNS = ("last_update_date", "registration_date")


def add(apps, schema_editor):
    # PostgreSQL only: a listing sorted by these finds its page's trials in the search table, without reading
    # every match's trial row (trials/search/backends.py PostgresSearch.first).
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS {column} date")
    schema_editor.execute(
        f"UPDATE {TABLE} document SET "
        + ", ".join(f"{column} = trial.{column}" for column in COLUMNS)
        + " FROM trials_trial trial WHERE trial.id = document.trial_id"
    )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS {column}")


class Migration(migrations.Migration):
    dependencies = [("trials", "0008_search_document_filters")]

    operations = [migrations.RunPython(add, remove)]
