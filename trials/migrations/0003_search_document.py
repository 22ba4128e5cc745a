"""The full-text index, whose form depends on the database: a tsvector table or an FTS5 table."""

from django.db import migrations


def install(apps, schema_editor):
    from trials.search.backends import search_backend

    for statement in search_backend().install_sql:
        schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    from trials.search.backends import search_backend

    for statement in search_backend().uninstall_sql:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("trials", "0002_search")]
    operations = [migrations.RunPython(install, uninstall, elidable=False)]
