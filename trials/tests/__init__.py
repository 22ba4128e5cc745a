from django.db import connection


def trial_page_queries() -> int:
    """A trial page's queries whatever the trial's size: the trial, its children (11 tables and the arms of
    interventions: one statement on PostgreSQL, 12 queries elsewhere), its versions, its other registrations."""
    return 1 + children_queries() + 2


def children_queries() -> int:
    return 1 if connection.vendor == "postgresql" else 12
