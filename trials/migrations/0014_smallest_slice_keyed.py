from django.db import migrations

TABLE = "trials_searchdocument"


def add_key(apps, schema_editor):
    # PostgreSQL only. The broadest searches count facets over the trials of sample 0 (1 in 256): keyed in the index
    # like the other slices, they are found there, instead of reading the slice below 2 and dropping half of it
    # (measured at 500,000 trials: every facet's counts 14-24 ms -> 6 ms).
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"UPDATE {TABLE} SET facets = facets || '{{sample<1}}'::text[] "
        "WHERE sample < 1 AND NOT facets @> '{sample<1}'::text[]"
    )


def remove_key(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"UPDATE {TABLE} SET facets = array_remove(facets, 'sample<1') WHERE sample < 1")


class Migration(migrations.Migration):
    dependencies = [("trials", "0013_children_ordered_by_trial_id")]

    operations = [migrations.RunPython(add_key, remove_key)]
