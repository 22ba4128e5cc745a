"""The only module of ingest that touches the database: trials from records, and run bookkeeping."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum

from django.db import IntegrityError, transaction
from django.utils import timezone

from trials.bulk import allocate_ids, insert_rows, references_to_own_rows
from trials.compression import compress
from trials.models import (
    Arm,
    Biospecimen,
    Condition,
    Contact,
    EligibilityCriterion,
    Identifier,
    Intervention,
    Keyword,
    Outcome,
    Site,
    SourceRecord,
    Sponsor,
    Trial,
)
from trials.search.indexing import index_trials, sample_of, settle_index

from .models import IngestFailure, IngestRun
from .records import (
    ArmRecord,
    BiospecimenRecord,
    ConditionRecord,
    ContactRecord,
    CriterionRecord,
    IdentifierRecord,
    InterventionRecord,
    KeywordRecord,
    OutcomeRecord,
    PartialDate,
    SiteRecord,
    SponsorRecord,
    TrialRecord,
)
from .snapshot import canonical_json, snapshot_of


class WriteResult(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


# Children of a trial: the model and the record type whose fields are its columns.
CHILDREN: dict[str, tuple[type, type]] = {
    "conditions": (Condition, ConditionRecord),
    "keywords": (Keyword, KeywordRecord),
    "outcomes": (Outcome, OutcomeRecord),
    "criteria": (EligibilityCriterion, CriterionRecord),
    "sites": (Site, SiteRecord),
    "sponsors": (Sponsor, SponsorRecord),
    "contacts": (Contact, ContactRecord),
    "identifiers": (Identifier, IdentifierRecord),
    "biospecimens": (Biospecimen, BiospecimenRecord),
}
SECOND_HAND_FORMATS = {"ictrp-xml", "ictrp-csv"}
NOT_TRIAL_FIELDS = {*CHILDREN, "arms", "interventions", "source", "source_format", "parser_version"}
ARM_COLUMNS = [field.name for field in dataclasses.fields(ArmRecord)]
INTERVENTION_COLUMNS = [field.name for field in dataclasses.fields(InterventionRecord) if field.name != "arm_labels"]
SOURCE_COLUMNS = [
    "trial",
    "format",
    "checksum",
    "parser_version",
    "content",
    "size",
    "snapshot",
    "origin",
    "ingested_at",
]


def trial_fields(record: TrialRecord) -> dict:
    """The Trial columns of a record: dates split into value and precision, tuples as lists."""
    fields = {}
    for field in dataclasses.fields(record):
        if field.name in NOT_TRIAL_FIELDS:
            continue
        value = getattr(record, field.name)
        if isinstance(value, PartialDate) or field.name.endswith("_date"):
            fields[field.name] = value.value if value else None
            fields[f"{field.name}_precision"] = value.precision if value else ""
        elif isinstance(value, tuple):
            fields[field.name] = list(value)
        else:
            fields[field.name] = value
    fields["sample"] = sample_of(record.registry_id)
    return fields


def _fit(model: type, values: dict) -> dict:
    """Cut text to the column's length, so a long registry value is kept rather than failing on PostgreSQL."""
    return dict(zip(values, _fitted(model, list(values), values.values()), strict=True))


@functools.cache
def _limits(model: type, columns: tuple[str, ...]) -> tuple[int | None, ...]:
    return tuple(getattr(model._meta.get_field(name), "max_length", None) for name in columns)


def _fitted(model: type, columns: list[str], values: Iterable) -> list:
    return [
        value[:limit] if limit and isinstance(value, str) else value
        for limit, value in zip(_limits(model, tuple(columns)), values, strict=True)
    ]


def write_trial(record: TrialRecord, *, origin: str = "") -> WriteResult:
    """Upsert one trial on (registry, registry id) in one transaction; unchanged records write nothing."""
    try:
        with transaction.atomic():
            return _write(record, origin)
    except IntegrityError:
        # Another ingest created the same trial between our read and our insert: read it again.
        with transaction.atomic():
            return _write(record, origin)


def _write(record: TrialRecord, origin: str) -> WriteResult:
    snapshot = snapshot_of(record)
    trial = Trial.objects.select_for_update().filter(registry=record.registry, registry_id=record.registry_id).first()
    if trial is None:
        _insert_new([(record, origin)])
        return WriteResult.CREATED
    if _unchanged(record, canonical_json(snapshot), _stored_versions({trial.pk: trial.last_update_date})[trial.pk]):
        return WriteResult.UNCHANGED
    for name, value in _fit(Trial, trial_fields(record)).items():
        setattr(trial, name, value)
    trial.save()
    for related in (*CHILDREN, "arms", "interventions"):
        getattr(trial, related).all().delete()
    _insert_children([(trial.pk, record)])
    index_trials([(trial.pk, trial.sample, record)])
    # A new version; one whose content equals an earlier, not the newest, version (a registry going back) too.
    values = _source_row(trial, record, origin, timezone.now(), snapshot)
    SourceRecord(**dict(zip(SOURCE_COLUMNS, values, strict=True))).save()
    return WriteResult.UPDATED


def write_trials(records: Sequence[TrialRecord], *, origins: Sequence[str] = ()) -> list[WriteResult]:
    """Write a batch in one transaction: trials not yet stored go in with one insert per table.

    If the batch fails (a record the database refuses), nothing of it is kept and the error propagates: the
    caller writes its records one at a time with write_trial to find the one that fails.
    """
    origins = list(origins) or [""] * len(records)
    with transaction.atomic():
        return _write_batch(records, origins)


def _write_batch(records: Sequence[TrialRecord], origins: Sequence[str]) -> list[WriteResult]:
    stored = {
        (registry, registry_id): (pk, last_update)
        for registry, registry_id, pk, last_update in Trial.objects.select_for_update()
        .filter(registry_id__in={record.registry_id for record in records})
        .values_list("registry", "registry_id", "pk", "last_update_date")
    }
    versions = _stored_versions(dict(stored.values()))
    new: dict[tuple[str, str], tuple[TrialRecord, str]] = {}
    seen = set()
    # What each record comes to without writing it alone; None: a second record of one trial, or a change.
    outcomes: list[WriteResult | None] = []
    for record, origin in zip(records, origins, strict=True):
        key = (record.registry, record.registry_id)
        if key in seen:
            outcomes.append(None)
        elif key not in stored:
            new[key] = (record, origin)
            outcomes.append(WriteResult.CREATED)
        else:
            kept = _unchanged(record, canonical_json(snapshot_of(record)), versions[stored[key][0]])
            outcomes.append(WriteResult.UNCHANGED if kept else None)
        seen.add(key)
    _insert_new(list(new.values()))
    return [
        outcome or _write(record, origin) for outcome, record, origin in zip(outcomes, records, origins, strict=True)
    ]


@dataclasses.dataclass
class _Stored:
    """What decides whether a record changes its stored trial: the newest version and every earlier content."""

    checksum: str = ""
    format: str = ""
    last_update: date | None = None
    checksums: set[str] = dataclasses.field(default_factory=set)


def _stored_versions(trials: dict[int, date | None]) -> dict[int, _Stored]:
    """Each trial's versions (trials given as pk: last update on the registry), read in one query."""
    stored = {pk: _Stored(last_update=last_update) for pk, last_update in trials.items()}
    versions = SourceRecord.objects.filter(trial_id__in=list(trials)).order_by("trial_id", "-ingested_at", "-id")
    for trial_id, checksum, source_format in versions.values_list("trial_id", "checksum", "format"):
        trial = stored[trial_id]
        if not trial.checksum:
            trial.checksum, trial.format = checksum, source_format
        trial.checksums.add(checksum)
    return stored


def _unchanged(record: TrialRecord, spelled_snapshot: bytes, stored: _Stored) -> bool:
    """Whether a record leaves its stored trial as it is."""
    # Unchanged is the same normalised content, whatever the raw bytes' layout or the parser's version.
    checksum = hashlib.sha256(spelled_snapshot).hexdigest()
    if checksum == stored.checksum:
        return True
    if not stored.format:  # no version stored yet to compare with
        return False
    # WHO ICTRP republishes registries' records with fewer fields; the registry's own record stands.
    if record.source_format in SECOND_HAND_FORMATS and stored.format not in SECOND_HAND_FORMATS:
        return True
    # Files of different ages, or one file twice, can hold one trial more than once (an old classic XML download
    # beside an API export, two ICTRP exports, a repeated row): the record the registry updated last stands, and
    # one that is not newer changes nothing if it is of another format or content already stored. So loading
    # the same files again, in any order, changes nothing; a registry going back to earlier content with a
    # newer update is still a version of its own.
    incoming = record.last_update_date.value if record.last_update_date else None
    if incoming is not None and stored.last_update is not None and incoming > stored.last_update:
        return False
    if checksum in stored.checksums:
        return True
    if incoming is None or stored.last_update is None:
        return False
    return incoming < stored.last_update or record.source_format != stored.format


def _insert_new(items: Sequence[tuple[TrialRecord, str]]) -> None:
    """Insert trials not stored yet, with their children, search index and source: one insert per table."""
    if not items:
        return
    ids = allocate_ids(Trial, len(items))
    now = timezone.now()
    fields = [trial_fields(record) for record, _ in items]
    columns = [*fields[0], "id", "created_at", "updated_at"]
    insert_rows(
        Trial,
        columns,
        (_fitted(Trial, columns, [*values.values(), pk, now, now]) for pk, values in zip(ids, fields, strict=True)),
    )
    pairs = [(pk, record) for pk, (record, _) in zip(ids, items, strict=True)]
    with references_to_own_rows():
        _insert_children(pairs)
        index_trials(
            [(pk, values["sample"], record) for (pk, record), values in zip(pairs, fields, strict=True)], new=True
        )
        insert_rows(
            SourceRecord,
            SOURCE_COLUMNS,
            (_source_row(pk, record, origin, now) for pk, (record, origin) in zip(ids, items, strict=True)),
        )


def _insert_children(items: Sequence[tuple[int, TrialRecord]]) -> None:
    """Insert the children of these trials, one statement per table whatever the number of trials."""
    for name, (model, record_type) in CHILDREN.items():
        columns = [field.name for field in dataclasses.fields(record_type)]
        _insert_items(
            model, columns, [(pk, n, child) for pk, record in items for n, child in enumerate(getattr(record, name))]
        )
    arms = [(pk, position, arm) for pk, record in items for position, arm in enumerate(record.arms)]
    arm_ids = allocate_ids(Arm, len(arms))
    _insert_items(Arm, ARM_COLUMNS, arms, arm_ids)
    arms_by_trial: dict[int, dict[str, int]] = {}
    for arm_id, (pk, _, arm) in zip(arm_ids, arms, strict=True):
        arms_by_trial.setdefault(pk, {}).setdefault(arm.label, arm_id)
    interventions = [(pk, position, item) for pk, record in items for position, item in enumerate(record.interventions)]
    intervention_ids = allocate_ids(Intervention, len(interventions))
    _insert_items(Intervention, INTERVENTION_COLUMNS, interventions, intervention_ids)
    links = set()
    for item_id, (pk, _, item) in zip(intervention_ids, interventions, strict=True):
        arms = arms_by_trial.get(pk, {})
        arms_by_folded = {label.casefold(): arm_id for label, arm_id in reversed(arms.items())}
        for label in item.arm_labels:
            arm_id = arms.get(label) or arms_by_folded.get(label.casefold())
            if arm_id is not None:
                links.add((item_id, arm_id))
    insert_rows(Intervention.arms.through, ["intervention", "arm"], sorted(links))


def _insert_items(
    model: type, columns: list[str], items: Sequence[tuple[int, int, object]], ids: Sequence[int] = ()
) -> None:
    """Insert child records given as (trial id, position, record), under the ids given if any."""
    names = [*(["id"] if ids else []), "trial", "position", *columns]
    rows = (
        [*ids[index : index + 1], pk, position, *astuple(child, columns)]
        for index, (pk, position, child) in enumerate(items)
    )
    insert_rows(model, names, (_fitted(model, names, row) for row in rows))


def astuple(record: object, columns: list[str]) -> list:
    """A child record's values in column order (dataclasses.astuple copies deeply, which is slow)."""
    return [getattr(record, column) for column in columns]


def _source_row(trial: int | Trial, record: TrialRecord, origin: str, now, snapshot: dict | None = None) -> list:
    """The version of a trial this record is: raw source, normalised snapshot and its content checksum."""
    spelled = canonical_json(snapshot_of(record) if snapshot is None else snapshot)
    return [
        trial,
        record.source_format,
        hashlib.sha256(spelled).hexdigest(),
        record.parser_version,
        compress(record.source),
        len(record.source),
        compress(spelled),
        origin[:500],
        now,
    ]


def start_run(sources: list[str]) -> IngestRun:
    return IngestRun.objects.create(sources="\n".join(sources))


def record_failure(run: IngestRun, source: str, reason: str, position: str = "") -> None:
    IngestFailure.objects.create(run=run, source=source[:500], position=position[:200], reason=reason)


def finish_run(run: IngestRun, *, files: int, counts: dict[str, int]) -> IngestRun:
    run.files = files
    run.created = counts.get(WriteResult.CREATED, 0)
    run.updated = counts.get(WriteResult.UPDATED, 0)
    run.unchanged = counts.get(WriteResult.UNCHANGED, 0)
    run.failed = counts.get("failed", 0)
    settle_index()
    run.finished_at = timezone.now()
    run.save()
    return run
