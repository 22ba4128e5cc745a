"""Inserting many rows fast: binary COPY on PostgreSQL, one executemany elsewhere; ids handed out before the insert.

The ORM's bulk_create builds a model instance per row and compiles one big INSERT; for ingest at registry
scale (a trial is ~40 rows) that costs more than parsing. Here rows are plain tuples in column order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, models


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """Primary keys for `count` new rows of a model, taken from its sequence (or past the largest id)."""
    if not count:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: ids past both the largest id and AUTOINCREMENT's high-water mark; the caller's transaction
        # makes a concurrent writer fail on the unique key rather than share them.
        cursor.execute(
            f"SELECT MAX(COALESCE((SELECT MAX(id) FROM {table}), 0),"
            " COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
            [table],
        )
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows (tuples in the order of `columns`, field names) into the model's table."""
    fields = [model._meta.get_field(name) for name in columns]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Binary COPY: no text escaping of the compressed sources, no parsing of numbers and dates.
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([field.db_type(connection).split("(")[0] for field in fields])
                for row in rows:
                    copy.write_row(row)
            return
        convert = _converters(fields)
        placeholders = ", ".join(["%s"] * len(fields))
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({placeholders})",
            [[value if c is None else c(value) for c, value in zip(convert, row, strict=True)] for row in rows],
        )


@contextmanager
def references_to_own_rows() -> Iterator[None]:
    """Inside, rows inserted refer only to rows this transaction inserted itself: PostgreSQL does not check their
    foreign keys one row at a time, where the database role may say so (a superuser, or one granted `SET ON
    PARAMETER session_replication_role`); elsewhere the checks run as always.

    Those checks are ~45 lookups a trial at ingest, 14% of PostgreSQL's CPU, and can find nothing wrong here: the
    parents are this transaction's own rows, which no one else sees before commit, so none can delete them. Outside (an
    admin's edit, an update of a stored trial) every reference is checked. This is what pg_restore does.
    """
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        yield
        return
    allowed = (
        "has_parameter_privilege('session_replication_role', 'SET')"
        if connection.pg_version >= 150000
        else "current_setting('is_superuser') = 'on'"
    )
    with connection.cursor() as cursor:
        # LOCAL: a rollback, of the transaction or of a savepoint around this, puts the setting back too.
        cursor.execute(
            "SELECT current_setting('session_replication_role'), "
            f"set_config('session_replication_role', 'replica', true) WHERE {allowed}"
        )
        before = cursor.fetchone()
    yield
    if before is not None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('session_replication_role', %s, true)", [before[0]])


def _converters(fields: Sequence[models.Field]) -> list[Callable[[Any], Any] | None]:
    """Per column, what turns a Python value into what SQLite takes (None: the value as it is)."""
    converters = []
    for field in fields:
        if isinstance(field, models.JSONField):
            converters.append(json.dumps)
        elif isinstance(field, models.CharField | models.TextField | models.IntegerField):
            converters.append(None)
        else:
            converters.append(lambda value, field=field: field.get_db_prep_save(value, connection))
    return converters
