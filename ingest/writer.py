"""The only module of ingest that touches the database: trials from records, and run bookkeeping."""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Sequence
from enum import StrEnum

from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

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
from trials.search.indexing import index_trials, sample_of

from .models import IngestFailure, IngestRun
from .records import PartialDate, TrialRecord
from .snapshot import canonical_json, content_checksum, snapshot_of


class WriteResult(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


CHILD_MODELS = {
    "conditions": Condition,
    "keywords": Keyword,
    "arms": Arm,
    "outcomes": Outcome,
    "criteria": EligibilityCriterion,
    "sites": Site,
    "sponsors": Sponsor,
    "contacts": Contact,
    "identifiers": Identifier,
    "biospecimens": Biospecimen,
}
BULK_SIZE = 2000
NOT_TRIAL_FIELDS = {*CHILD_MODELS, "interventions", "source", "source_format", "parser_version"}


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
    limits = _LIMITS.setdefault(
        model, {f.name: f.max_length for f in model._meta.concrete_fields if getattr(f, "max_length", None)}
    )
    return {
        name: value[: limits[name]] if name in limits and isinstance(value, str) else value
        for name, value in values.items()
    }


_LIMITS: dict[type, dict[str, int]] = {}


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
    if trial is not None:
        # Unchanged is the same normalised content, whatever the raw bytes' layout or the parser's version.
        latest = trial.sources.order_by("-ingested_at", "-id").only("checksum").first()
        if latest and latest.checksum == content_checksum(snapshot):
            return WriteResult.UNCHANGED
        for name, value in _fit(Trial, trial_fields(record)).items():
            setattr(trial, name, value)
        trial.save()
        for related in (*CHILD_MODELS, "interventions"):
            getattr(trial, related).all().delete()
        outcome = WriteResult.UPDATED
    else:
        trial = Trial.objects.create(**_fit(Trial, trial_fields(record)))
        outcome = WriteResult.CREATED
    _write_children([(trial, record)])
    index_trials([(trial, record)])
    _keep_source(trial, record, snapshot, origin)
    return outcome


def _write_children(pairs: Sequence[tuple[Trial, TrialRecord]]) -> None:
    """Insert the children of these trials, one statement per table whatever the number of trials."""
    for name, model in CHILD_MODELS.items():
        model.objects.bulk_create(
            (
                model(trial=trial, position=position, **_fit(model, dataclasses.asdict(child)))
                for trial, record in pairs
                for position, child in enumerate(getattr(record, name))
            ),
            batch_size=BULK_SIZE,
        )
    arms_by_trial: dict[int, dict[str, Arm]] = {}
    for arm in Arm.objects.filter(trial__in=[trial for trial, _ in pairs]).only("id", "trial_id", "label"):
        arms_by_trial.setdefault(arm.trial_id, {})[arm.label] = arm
    items = [(trial, position, item) for trial, record in pairs for position, item in enumerate(record.interventions)]
    interventions = Intervention.objects.bulk_create(
        (
            Intervention(
                trial=trial,
                position=position,
                **_fit(Intervention, {k: v for k, v in dataclasses.asdict(item).items() if k != "arm_labels"}),
            )
            for trial, position, item in items
        ),
        batch_size=BULK_SIZE,
    )
    links = []
    for intervention, (trial, _, item) in zip(interventions, items, strict=True):
        arms = arms_by_trial.get(trial.pk, {})
        arms_by_folded = {label.casefold(): arm for label, arm in arms.items()}
        for label in dict.fromkeys(item.arm_labels):
            arm = arms.get(label) or arms_by_folded.get(label.casefold())
            if arm is not None:
                links.append(Intervention.arms.through(intervention_id=intervention.pk, arm_id=arm.pk))
    Intervention.arms.through.objects.bulk_create(links, ignore_conflicts=True, batch_size=BULK_SIZE)


def write_trials(records: Sequence[TrialRecord], *, origin: str = "") -> list[WriteResult]:
    """Write a batch: trials not yet stored go in with one insert per table; the others one at a time.

    The batch is one transaction. If it fails (a record the database refuses, a concurrent ingest creating the
    same trial), it is rolled back and every record is written on its own, so one bad record fails alone.
    """
    try:
        with transaction.atomic():
            return _write_batch(records, origin)
    except (IntegrityError, DataError):
        return [write_trial(record, origin=origin) for record in records]


def _write_batch(records: Sequence[TrialRecord], origin: str) -> list[WriteResult]:
    stored = set(
        Trial.objects.filter(registry_id__in={record.registry_id for record in records}).values_list(
            "registry", "registry_id"
        )
    )
    new: dict[tuple[str, str], TrialRecord] = {}
    for record in records:
        key = (record.registry, record.registry_id)
        if key not in stored:
            new.setdefault(key, record)
    fresh = list(new.values())
    trials = Trial.objects.bulk_create([Trial(**_fit(Trial, trial_fields(record))) for record in fresh])
    pairs = list(zip(trials, fresh, strict=True))
    _write_children(pairs)
    index_trials(pairs)
    SourceRecord.objects.bulk_create(_source(trial, record, origin) for trial, record in pairs)
    written = {id(record) for record in fresh}
    return [WriteResult.CREATED if id(record) in written else _write(record, origin) for record in records]


def _keep_source(trial: Trial, record: TrialRecord, snapshot: dict, origin: str) -> None:
    """A new version; one whose content equals an earlier, not the newest, version (a registry going back) too."""
    _source(trial, record, origin, snapshot).save()


def _source(trial: Trial, record: TrialRecord, origin: str, snapshot: dict | None = None) -> SourceRecord:
    """The version of a trial this record is: raw source, normalised snapshot and its content checksum."""
    snapshot = snapshot_of(record) if snapshot is None else snapshot
    return SourceRecord(
        trial=trial,
        format=record.source_format,
        checksum=content_checksum(snapshot),
        parser_version=record.parser_version,
        content=zlib.compress(record.source, 6),
        size=len(record.source),
        snapshot=zlib.compress(canonical_json(snapshot), 6),
        origin=origin[:500],
    )


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
    run.finished_at = timezone.now()
    run.save()
    return run
