"""A record's normalised content: what it keeps, and that its checksum ignores how the file was laid out."""

import dataclasses
import datetime
import json
from pathlib import Path

from ingest import detect, pipeline
from ingest.inputs import COMMAND_LINE, documents
from ingest.records import OutcomeRecord, PartialDate, TrialRecord
from ingest.snapshot import canonical_json, content_checksum, snapshot_of

STUDY = Path(__file__).parent / "data" / "NCT06715774.json"


def parse_one(payload: bytes):
    [record] = detect.parse(payload)
    return record


def test_a_snapshot_holds_the_content_as_json_data_without_the_raw_source(seed_bytes):
    record = parse_one(seed_bytes("ChiCTR2600126638"))
    snapshot = snapshot_of(record)
    assert {"source", "source_format", "parser_version"}.isdisjoint(snapshot)
    assert snapshot["registry_id"] == "ChiCTR2600126638"
    assert snapshot["status"] == "NOT_YET_RECRUITING"
    assert snapshot["enrollment_target"] == 36
    assert snapshot["registration_date"] == "2026-06-12"
    first_outcome = {name: value for name, value in dataclasses.asdict(record.outcomes[0]).items() if value != ""}
    assert snapshot["outcomes"][0] == first_outcome
    assert json.loads(canonical_json(snapshot)) == snapshot


def test_dates_keep_their_precision_and_defaults_are_left_out(seed_bytes):
    record = parse_one(seed_bytes("NCT07101562"))
    month = dataclasses.replace(record, start_date=PartialDate(datetime.date(2025, 7, 1), "month"))
    assert snapshot_of(month)["start_date"] == "2025-07"
    assert "acronym" not in snapshot_of(dataclasses.replace(record, acronym=""))
    outcome = snapshot_of(dataclasses.replace(record, outcomes=(OutcomeRecord(kind="other", measure="Pain"),)))
    assert outcome["outcomes"] == [{"kind": "other", "measure": "Pain"}]


def test_the_same_study_laid_out_differently_has_the_same_checksum():
    pretty = STUDY.read_bytes()
    study = json.loads(pretty)
    compact = json.dumps(dict(reversed(study.items())), separators=(",", ":")).encode()
    assert compact != pretty
    first, second = parse_one(pretty), parse_one(compact)
    assert content_checksum(snapshot_of(first)) == content_checksum(snapshot_of(second))


def test_another_parser_version_with_the_same_content_has_the_same_checksum(seed_bytes):
    record = parse_one(seed_bytes("NCT06379243"))
    reparsed = dataclasses.replace(record, parser_version="ctgov-page/99", source=record.source + b"\n")
    assert content_checksum(snapshot_of(reparsed)) == content_checksum(snapshot_of(record))


def test_any_changed_field_changes_the_checksum(seed_bytes):
    record = parse_one(seed_bytes("NCT06379243"))
    checksum = content_checksum(snapshot_of(record))
    assert content_checksum(snapshot_of(dataclasses.replace(record, enrollment_target=600))) != checksum
    assert content_checksum(snapshot_of(dataclasses.replace(record, sites=record.sites[1:]))) != checksum


def test_the_spelling_of_a_snapshot_is_the_one_its_stored_checksums_were_taken_of():
    """Versions stored earlier were checksummed over json.dumps' spelling: a record must still match them."""
    bundled = Path(__file__).resolve().parents[2] / "samples"
    paths = [str(bundled / "registry" / "records"), *map(str, (bundled / "seeds").glob("*.txt"))]
    records = [
        record
        for item in pipeline.path_inputs(paths)
        for document in documents(item.name, item.open(), COMMAND_LINE)
        for record in detect.parse_stream(document.head, document.stream)
        if isinstance(record, TrialRecord)
    ]
    assert len(records) > 300
    for record in records:
        snapshot = snapshot_of(record)
        spelled = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        assert canonical_json(snapshot) == spelled, record.registry_id
