from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connections, models
from django.db.models import Prefetch, Q, prefetch_related_objects

from .registrations import OtherRegistration

LINKED = ("id", "registry", "registry_id", "public_title", "public_title_original")  # what a link shows
# What a list of trials shows of each trial's own row (the search_result template tag).
LISTED = (*LINKED, "status", "phases", "enrollment", "original_language")


class TrialQuerySet(models.QuerySet):
    def for_listing(self, *texts: str) -> TrialQuerySet:
        """Only the columns a list of trials shows, and these texts (where a snippet is looked for): a page of
        trials then reads a few columns, not every long text of every trial."""
        return self.only(*LISTED, *texts)

    def with_listing_data(self, trials: Sequence) -> Sequence:
        """What a list of trials shows besides the trial rows, set on each: its conditions as registered
        (condition_names) and its sites' countries. One statement for any number of trials, read as plain rows: a
        trial may have hundreds of sites, and building querysets cost a page more Python than reading the rows."""
        from .models import Condition, Site

        pks = [trial.pk for trial in trials]
        conditions: dict[int, list[str]] = {pk: [] for pk in pks}
        countries: dict[int, dict[str, None]] = {pk: {} for pk in pks}  # each once, in registry order
        if pks:
            listed = _placeholders(pks)
            sql = (
                f"SELECT 0, trial_id, position, name FROM {Condition._meta.db_table} "
                f"WHERE trial_id IN ({listed}) AND vocabulary = '' UNION ALL "
                f"SELECT 1, trial_id, position, country FROM {Site._meta.db_table} "
                f"WHERE trial_id IN ({listed}) AND country <> '' ORDER BY 1, 2, 3"
            )
            with connections[self.db].cursor() as cursor:
                cursor.execute(sql, [*pks, *pks])
                for kind, pk, _, value in cursor.fetchall():
                    if kind:
                        countries[pk][value] = None
                    else:
                        conditions[pk].append(value)
        for trial in trials:
            trial.condition_names, trial.countries = conditions[trial.pk], list(countries[trial.pk])
        return trials

    def with_full_record(self) -> TrialQuerySet:
        """Every child of a trial, in registry order, in a fixed number of queries."""
        return self.prefetch_related(*_full_record())

    def with_history(self) -> TrialQuerySet:
        """A trial's versions, newest first, with their snapshots (not their raw records), in one query."""
        return self.prefetch_related(_history())

    def read_full_record(self, trials: Sequence, *, history: bool = False) -> Sequence:
        """What with_full_record() (and with_history()) read, for trials already read. On PostgreSQL every child
        table is read in one statement, its rows as JSON arrays: Django's prefetching cost about 0.7 ms of Python
        a table, ten times what the rows themselves cost."""
        if connections[self.db].vendor == "postgresql":
            _read_children(self.db, trials)
        else:
            prefetch_related_objects(trials, *_full_record())
        if history:
            prefetch_related_objects(trials, _history())
        return trials

    def by_registry_id(self, registry_id: str) -> TrialQuerySet:
        return self.filter(registry_id=registry_id)

    def by_registry_ids(self, registry_ids: Iterable[str]) -> TrialQuerySet:
        return self.filter(registry_id__in=list(registry_ids))

    def spellings(self, registry_ids: Iterable[str]) -> dict[str, str]:
        """The registry's spelling of ids typed in any case, keyed by the typed id casefolded.

        Case-insensitive matching cannot use the registry id index, so ask this only for ids not found as typed.
        """
        matches = Q()
        for registry_id in registry_ids:
            matches |= Q(registry_id__iexact=registry_id)
        if not matches:
            return {}
        spelled = self.filter(matches).values_list("registry_id", flat=True)
        return {registry_id.casefold(): registry_id for registry_id in spelled}

    def registered_elsewhere(self, trials: Iterable) -> dict[int, list[OtherRegistration]]:
        """The other registrations of each trial (by pk), whichever of the linked records was loaded: the ids in
        other registries that a trial names (identifiers of type "registry"), with the trials stored here under
        them, and the trials stored here that name this trial's id.

        One query for any number of trials, through the identifier value and trial id indexes. Parsers write
        registry ids in their canonical spelling (ingest.registries.canonical), so they match exactly.
        """
        from .models import Identifier

        trials = list(trials)
        if not trials:
            return {}
        pks_by_id: dict[str, list[int]] = {}  # two registries may (rarely) use the same id
        for trial in trials:
            pks_by_id.setdefault(trial.registry_id.casefold(), []).append(trial.pk)
        # With the trial stored under the id an identifier names, if any (two registries may share an id: each
        # comes as a row, and _add keeps one), and the trial that names it. Written as SQL: as a queryset, its
        # compilation took 2.5 ms of Python on every search page.
        trial_table, identifier_table = self.model._meta.db_table, Identifier._meta.db_table
        pks, ids = [trial.pk for trial in trials], [trial.registry_id for trial in trials]
        sql = (
            f"SELECT identifier.trial_id, identifier.value, identifier.issuer, "
            f"{', '.join(f'named.{f}' for f in LINKED)}, {', '.join(f'naming.{f}' for f in LINKED[1:])} "
            f"FROM {identifier_table} identifier JOIN {trial_table} naming ON naming.id = identifier.trial_id "
            f"LEFT JOIN {trial_table} named ON named.registry_id = identifier.value "
            f"WHERE identifier.type = 'registry' AND (identifier.trial_id IN ({_placeholders(pks)}) "
            f"OR identifier.value IN ({_placeholders(ids)})) "
            "ORDER BY identifier.trial_id, identifier.position"
        )
        with connections[self.db].cursor() as cursor:
            cursor.execute(sql, [*pks, *ids])
            rows = cursor.fetchall()
        own_id = {trial.pk: trial.registry_id.casefold() for trial in trials}
        found: dict[int, dict[str, OtherRegistration]] = {trial.pk: {} for trial in trials}
        for trial_id, value, issuer, *columns in rows:
            named, owner = columns[: len(LINKED)], (trial_id, *columns[len(LINKED) :])
            if trial_id in found and value.casefold() != own_id[trial_id]:  # this trial names the other
                linked = self._linked(named) if named[0] is not None else None
                registry = issuer or (linked.registry if linked else "")
                self._add(found[trial_id], OtherRegistration(registry, value, linked))
            for pk in pks_by_id.get(value.casefold(), []):  # another trial names this one
                if pk != trial_id:
                    linked = self._linked(owner)
                    self._add(found[pk], OtherRegistration(linked.registry, linked.registry_id, linked))
        return {pk: list(links.values()) for pk, links in found.items()}

    def _linked(self, values: Sequence):
        """A trial read for a link: the fields of LINKED loaded, any other read on access."""
        return self.model.from_db(self.db, list(LINKED), list(values))

    @staticmethod
    def _add(links: dict[str, OtherRegistration], link: OtherRegistration) -> None:
        """Each id once, stored trials preferred (both records may name each other)."""
        key = link.registry_id.casefold()
        if key not in links or (link.trial and not links[key].trial):
            links[key] = link


def _placeholders(values: Sequence) -> str:
    return ", ".join(["%s"] * len(values))


# A trial's children: what its full record reads besides its own row.
CHILDREN = (
    "conditions",
    "keywords",
    "arms",
    "interventions",
    "outcomes",
    "criteria",
    "sites",
    "sponsors",
    "contacts",
    "identifiers",
    "biospecimens",
)


def _full_record() -> tuple:
    from .models import Intervention

    with_arms = Prefetch("interventions", queryset=Intervention.objects.prefetch_related("arms"))
    return tuple(with_arms if name == "interventions" else name for name in CHILDREN)


# Field types whose JSON form is the value a read gives; others go through Field.to_python.
JSON_AS_IS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "FloatField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}


def _as_json(model: type[models.Model], rows_sql: str, *prefix: str) -> str:
    """A subquery giving the model's rows (`rows_sql`: FROM and WHERE) as one JSON array of arrays of its columns,
    after any `prefix` columns, in registry order; null when there are none."""
    table = model._meta.db_table
    columns = [*prefix, *(f'"{table}"."{field.column}"' for field in model._meta.concrete_fields)]
    order = f'"{table}"."trial_id", "{table}"."position"'
    return f"(SELECT json_agg(json_build_array({', '.join(columns)}) ORDER BY {order}) {rows_sql})"


def _instances(db: str, model: type[models.Model], rows: Iterable[list]) -> list:
    fields = model._meta.concrete_fields
    names = [field.attname for field in fields]
    converted = [(i, field.to_python) for i, field in enumerate(fields) if field.get_internal_type() not in JSON_AS_IS]
    instances = []
    for row in rows:
        for i, to_python in converted:
            row[i] = to_python(row[i])
        instances.append(model.from_db(db, names, row))
    return instances


def _read_children(db: str, trials: Sequence) -> None:
    """Every child of these trials, and each intervention's arms, in one statement, left as prefetch_related
    leaves them: each related manager answers from them without a query."""
    from .models import Arm, Intervention, Trial

    if not trials:
        return
    relations = [relation for relation in Trial._meta.related_objects if relation.get_accessor_name() in CHILDREN]
    subqueries = [
        _as_json(r.related_model, f"FROM {r.related_model._meta.db_table} WHERE trial_id = ANY(%s)") for r in relations
    ]
    link = Intervention.arms.through._meta.db_table
    linked_arms = (
        f"FROM {link} JOIN {Arm._meta.db_table} ON {Arm._meta.db_table}.id = {link}.arm_id "
        f"WHERE {link}.intervention_id IN (SELECT id FROM {Intervention._meta.db_table} WHERE trial_id = ANY(%s))"
    )
    subqueries.append(_as_json(Arm, linked_arms, f"{link}.intervention_id"))
    pks = [trial.pk for trial in trials]
    with connections[db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(subqueries), [pks] * len(subqueries))
        *tables, links = cursor.fetchone()
    by_pk = {trial.pk: trial for trial in trials}
    for relation, rows in zip(relations, tables, strict=True):
        name = relation.get_accessor_name()
        children: dict[int, list] = {pk: [] for pk in by_pk}
        for child in _instances(db, relation.related_model, rows or ()):
            relation.field.set_cached_value(child, by_pk[child.trial_id])
            children[child.trial_id].append(child)
        for pk, objects in children.items():
            _cache(by_pk[pk], name, objects)
    arms: dict[int, list] = {}
    for intervention_id, *row in links or ():
        arms.setdefault(intervention_id, []).extend(_instances(db, Arm, [row]))
    for trial in trials:
        for intervention in trial.interventions.all():
            _cache(intervention, "arms", arms.get(intervention.pk, []))


def _cache(instance: models.Model, name: str, objects: list) -> None:
    """What prefetch_related leaves on an instance for one relation (as Django's prefetch_one_level does)."""
    queryset = getattr(instance, name).get_queryset()
    queryset._result_cache, queryset._prefetch_done = objects, True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


def _history() -> Prefetch:
    from .models import SourceRecord

    return Prefetch("sources", queryset=SourceRecord.objects.defer("content"))
