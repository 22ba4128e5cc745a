import dataclasses
import datetime
import gc
import gzip
import io
import json
import os
import time
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.backends.signals import connection_created

from conftest import SEEDS
from ingest import detect, pipeline, writer
from ingest.models import IngestFailure, IngestRun
from ingest.records import PartialDate
from ingest.writer import WriteResult, write_trial
from trials.bulk import references_to_own_rows
from trials.compression import ZSTD_MAGIC
from trials.models import (
    Arm,
    Condition,
    EligibilityCriterion,
    Intervention,
    Outcome,
    Site,
    SourceRecord,
    Sponsor,
    Trial,
)
from trials.search.indexing import index_trials, settle_index

SEED_IDS = {"ChiCTR2600126638", "ChiCTR2600127123", "NCT07101562", "NCT06379243", "NCT06731192"}
STUDY = Path(__file__).parent / "data" / "NCT06715774.json"
TABLES = [Trial, Arm, Intervention, Outcome, EligibilityCriterion, Site, Sponsor, Condition, SourceRecord]


def ingest(*paths):
    out, err = io.StringIO(), io.StringIO()
    call_command("ingest", *map(str, paths), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def snapshot():
    return {model.__name__: sorted(map(repr, model.objects.order_by("pk").values_list())) for model in TABLES}


@pytest.mark.django_db
def test_every_seed_ingests():
    out, err = ingest(SEEDS)
    assert set(Trial.objects.values_list("registry_id", flat=True)) == SEED_IDS
    assert "5 files: 5 created, 0 updated, 0 unchanged, 0 failed" in out
    assert err == ""
    run = IngestRun.objects.get()
    assert (run.files, run.created, run.failed) == (5, 5, 0)
    assert SourceRecord.objects.count() == 5


@pytest.mark.django_db
def test_an_ingest_run_leaves_nothing_pending_in_the_search_indexes():
    if connection.vendor != "postgresql":
        pytest.skip("pending lists are PostgreSQL's GIN indexes'")
    ingest(SEEDS)
    assert settle_index() == 0  # pages of pending entries it found
    index_trials([(trial.pk, trial.sample, trial) for trial in Trial.objects.with_full_record()])
    assert settle_index() > 0  # indexing outside a run leaves entries pending: what the run's end moved


@pytest.mark.django_db
def test_new_trials_children_skip_the_check_per_row_and_every_later_reference_is_checked():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite checks references at commit whatever the writer does")

    def dangling_keyword():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO trials_keyword (trial_id, position, name, name_original) VALUES (-1, 0, '', '')"
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            transaction.set_rollback(True)

    ingest(SEEDS)
    assert Trial.objects.count() == 5
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('session_replication_role')")
        assert cursor.fetchone()[0] == "origin"
    with pytest.raises(IntegrityError):
        dangling_keyword()
    with references_to_own_rows():  # the test database's role is a superuser
        dangling_keyword()
    with connection.cursor() as cursor:  # a setting made before is left as it was
        cursor.execute("SET LOCAL session_replication_role = local")
        with references_to_own_rows():
            pass
        cursor.execute("SELECT current_setting('session_replication_role')")
        assert cursor.fetchone()[0] == "local"


@pytest.mark.django_db
def test_ingesting_the_same_files_again_changes_nothing():
    ingest(SEEDS)
    before = snapshot()
    out, _ = ingest(SEEDS)
    assert "0 created, 0 updated, 5 unchanged, 0 failed" in out
    assert snapshot() == before


@pytest.mark.django_db
def test_a_changed_record_updates_the_trial_and_keeps_the_earlier_source(tmp_path):
    ingest(SEEDS / "NCT06379243.txt")
    changed = (SEEDS / "NCT06379243.txt").read_text().replace("560 participants", "600 participants")
    (tmp_path / "changed.txt").write_text(changed)
    out, _ = ingest(tmp_path / "changed.txt")
    assert "1 updated" in out
    trial = Trial.objects.get(registry_id="NCT06379243")
    assert trial.enrollment_target == 600
    assert Sponsor.objects.filter(trial=trial).count() == 4  # children replaced, not duplicated
    newest, earlier = trial.sources.all()
    assert (newest.snapshot_data["enrollment_target"], earlier.snapshot_data["enrollment_target"]) == (600, 560)
    assert newest.origin.endswith("changed.txt")


@pytest.mark.django_db
def test_versions_stored_zlib_compressed_before_zstandard_still_read_and_match():
    ingest(SEEDS / "NCT06379243.txt")
    version = SourceRecord.objects.get()
    raw, snapshot = version.text, version.snapshot_data
    assert version.content.startswith(ZSTD_MAGIC)
    SourceRecord.objects.update(
        content=zlib.compress(raw.encode(), 1), snapshot=zlib.compress(json.dumps(snapshot).encode(), 1)
    )
    version.refresh_from_db()
    assert (version.text, version.snapshot_data) == (raw, snapshot)
    out, _ = ingest(SEEDS / "NCT06379243.txt")
    assert "1 unchanged" in out


@pytest.mark.django_db
def test_loading_the_same_files_twice_keeps_one_version_of_each_trial():
    ingest(SEEDS)
    ingest(SEEDS)
    versions = SourceRecord.objects.select_related("trial")
    assert sorted(version.trial.registry_id for version in versions) == sorted(SEED_IDS)
    assert all(version.snapshot_data["registry_id"] == version.trial.registry_id for version in versions)


@pytest.mark.django_db
def test_the_same_study_with_other_json_layout_is_unchanged(tmp_path):
    study = json.loads(STUDY.read_text())
    (tmp_path / "compact.json").write_text(json.dumps(dict(reversed(study.items())), separators=(",", ":")))
    ingest(STUDY)
    out, _ = ingest(tmp_path / "compact.json")
    assert "0 updated, 1 unchanged" in out
    assert SourceRecord.objects.count() == 1


@pytest.mark.django_db
def test_a_file_of_many_studies_loaded_again_in_another_layout_is_all_unchanged(tmp_path):
    lines = gzip.decompress((SEEDS.parents[1] / "bench" / "data" / "ctgov-studies.jsonl.gz").read_bytes()).splitlines()
    (tmp_path / "studies.jsonl").write_bytes(b"\n".join(lines[:40]))
    page = {"studies": [json.loads(line) for line in lines[:40]], "nextPageToken": "x"}
    (tmp_path / "page.json").write_text(json.dumps(page, indent=1, sort_keys=True))
    assert "40 created" in ingest(tmp_path / "studies.jsonl")[0]
    out, _ = ingest(tmp_path / "studies.jsonl", tmp_path / "page.json")
    assert "0 created, 0 updated, 80 unchanged" in out
    assert SourceRecord.objects.count() == 40


@pytest.mark.django_db
def test_a_new_parser_version_reading_the_same_content_is_unchanged(seed_bytes):
    [record] = detect.parse(seed_bytes("NCT06731192"))
    assert write_trial(record) == WriteResult.CREATED
    assert write_trial(dataclasses.replace(record, parser_version="raw-json-page/99")) == WriteResult.UNCHANGED
    assert SourceRecord.objects.get().parser_version == record.parser_version


def updated_later(record, days: int, **changes):
    """The record as its registry might publish it `days` after its last update, with these changes."""
    last_update = PartialDate(record.last_update_date.value + datetime.timedelta(days=days))
    return dataclasses.replace(record, last_update_date=last_update, **changes)


@pytest.mark.django_db
def test_a_record_already_stored_and_not_newer_changes_nothing(seed_bytes):
    # One file holding a trial twice, or two files of one update: loading them again changes nothing.
    [record] = detect.parse(seed_bytes("NCT06731192"))
    changed = dataclasses.replace(record, enrollment_target=99)
    results = [write_trial(r) for r in (record, changed, record, changed)]
    assert results == [WriteResult.CREATED, WriteResult.UPDATED, WriteResult.UNCHANGED, WriteResult.UNCHANGED]
    assert Trial.objects.get().enrollment_target == 99
    assert SourceRecord.objects.count() == 2


@pytest.mark.django_db
def test_an_older_record_does_not_replace_a_newer_one(seed_bytes):
    [record] = detect.parse(seed_bytes("NCT06731192"))
    newer = updated_later(record, 30, enrollment_target=99)
    assert [write_trial(r) for r in (newer, record)] == [WriteResult.CREATED, WriteResult.UNCHANGED]
    assert Trial.objects.get().enrollment_target == 99


@pytest.mark.django_db
def test_the_same_update_in_another_format_does_not_replace_the_stored_record(seed_bytes):
    [record] = detect.parse(seed_bytes("NCT06731192"))
    other_format = dataclasses.replace(record, source_format="ctgov-xml", enrollment_target=99)
    assert [write_trial(r) for r in (record, other_format)] == [WriteResult.CREATED, WriteResult.UNCHANGED]
    assert Trial.objects.get().enrollment_target == record.enrollment_target


@pytest.mark.django_db
def test_a_registry_going_back_to_earlier_values_in_a_newer_update_is_a_version_of_its_own(seed_bytes):
    [record] = detect.parse(seed_bytes("NCT06731192"))
    changed, back = updated_later(record, 10, enrollment_target=99), updated_later(record, 20)
    assert [write_trial(r) for r in (record, changed, back)] == [WriteResult.CREATED, *[WriteResult.UPDATED] * 2]
    assert SourceRecord.objects.count() == 3
    assert Trial.objects.get().enrollment_target == record.enrollment_target


@pytest.mark.django_db
def test_a_file_holding_one_study_twice_is_all_unchanged_the_second_time(tmp_path):
    study = json.loads(STUDY.read_text())
    again = json.loads(STUDY.read_text())
    again["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = 12345
    (tmp_path / "twice.jsonl").write_text(json.dumps(study) + "\n" + json.dumps(again) + "\n")
    assert "1 created, 1 updated" in ingest(tmp_path / "twice.jsonl")[0]
    assert "0 created, 0 updated, 2 unchanged" in ingest(tmp_path / "twice.jsonl")[0]
    assert SourceRecord.objects.count() == 2


def write_bad_batch(folder, seed_bytes):
    (folder / "empty.txt").write_bytes(b"")
    (folder / "random.bin").write_bytes(bytes(range(256)) * 8)
    seed = seed_bytes("ChiCTR2600127123")
    (folder / "truncated.txt").write_bytes(seed[: len(seed) // 2])
    (folder / "broken.json").write_text('{"studies": [{"protocolSection": {"identificationModule": ')
    (folder / "letter.txt").write_text("Dear colleague,\nthe minutes of the meeting are attached.\n")
    (folder / "good.txt").write_bytes(seed_bytes("NCT06731192"))


@pytest.mark.django_db
def test_a_batch_with_bad_files_ingests_the_good_ones_and_names_every_bad_one(tmp_path, seed_bytes):
    write_bad_batch(tmp_path, seed_bytes)
    with pytest.raises(CommandError, match="5 failures"):
        ingest(tmp_path)
    assert list(Trial.objects.values_list("registry_id", flat=True)) == ["NCT06731192"]
    failures = {failure.source.rsplit("/", 1)[-1]: failure.reason for failure in IngestFailure.objects.all()}
    assert set(failures) == {"empty.txt", "random.bin", "truncated.txt", "broken.json", "letter.txt"}
    assert failures["empty.txt"] == "empty file"
    assert "truncated" in failures["truncated.txt"]
    assert "broken JSON" in failures["broken.json"]
    assert "not a recognised registry format" in failures["letter.txt"]
    run = IngestRun.objects.get()
    assert (run.created, run.failed) == (1, 5)


@pytest.mark.django_db
def test_bad_files_are_reported_on_stderr_without_a_traceback(tmp_path, seed_bytes, capsys):
    write_bad_batch(tmp_path, seed_bytes)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("ingest", str(tmp_path), stdout=io.StringIO(), stderr=err)
    for name in ("empty.txt", "random.bin", "truncated.txt", "broken.json", "letter.txt"):
        assert f"{name}: FAILED: " in err.getvalue()
    assert "Traceback" not in err.getvalue()


@pytest.mark.django_db
def test_a_missing_path_is_a_failure_not_a_crash(tmp_path):
    with pytest.raises(CommandError):
        ingest(tmp_path / "nowhere.txt")
    assert "could not be read" in IngestFailure.objects.get().reason


@pytest.mark.django_db
def test_standard_input(monkeypatch, seed_bytes):
    class Stdin:
        buffer = io.BytesIO(seed_bytes("NCT07101562"))

    monkeypatch.setattr("sys.stdin", Stdin)
    out, _ = ingest("-")
    assert "<stdin>: 1 created" in out
    assert Trial.objects.filter(registry_id="NCT07101562").exists()


@pytest.mark.django_db
def test_a_broken_record_is_reported_at_its_position_and_the_others_are_kept(tmp_path):
    study = '{"protocolSection": {"identificationModule": {"nctId": "NCT0000000%d", "briefTitle": "A"}}}'
    (tmp_path / "studies.jsonl").write_text("\n".join([study % 1, '{"protocolSection": {', study % 3]))
    with pytest.raises(CommandError):
        ingest(tmp_path / "studies.jsonl")
    failure = IngestFailure.objects.get()
    assert failure.position == "line 2"
    assert "broken JSON" in failure.reason
    assert set(Trial.objects.values_list("registry_id", flat=True)) == {"NCT00000001", "NCT00000003"}


@pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
def test_outside_a_transaction_batches_are_written_alongside_parsing_with_the_same_result(tmp_path):
    # On PostgreSQL this is the path of a real run: a writer thread with its own connection.
    study = '{"protocolSection": {"identificationModule": {"nctId": "NCT0000000%d", "briefTitle": "A"}}}'
    lines = [study % number for number in range(1, 8)]
    lines[3] = '{"protocolSection": {'
    (tmp_path / "studies.jsonl").write_text("\n".join(lines))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("ingest", str(SEEDS), str(tmp_path), "--batch-size", "2", stdout=out, stderr=err)
    assert "6 files: 11 created, 0 updated, 0 unchanged, 1 failed" in out.getvalue()
    assert "studies.jsonl [line 4]: FAILED: broken JSON" in err.getvalue()
    assert Trial.objects.count() == 11
    assert IngestFailure.objects.get().position == "line 4"


@pytest.mark.django_db
def test_the_garbage_collector_runs_rarely_during_a_run_and_as_before_after_it(monkeypatch):
    before = gc.get_threshold()
    during = []
    write_trials = writer.write_trials

    def watched(records, **kwargs):
        during.append((gc.get_threshold(), gc.get_freeze_count() > 0))
        return write_trials(records, **kwargs)

    monkeypatch.setattr(writer, "write_trials", watched)
    ingest(SEEDS)
    assert during and all(seen == (pipeline.COLLECTION_THRESHOLDS, True) for seen in during)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


@pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
def test_writer_processes_keep_one_connection_each_for_the_run_and_close_it_at_the_end(tmp_path):
    # A new connection per batch costs PostgreSQL a process and cold caches. Five batches, at most three writers.
    opened, parent = tmp_path / "opened", os.getpid()

    def count(sender, connection, **kwargs):
        if os.getpid() != parent:  # in a writer process
            with opened.open("a") as out:
                out.write(f"{os.getpid()}\n")

    connection_created.connect(count)
    try:
        call_command("ingest", str(SEEDS), "--batch-size", "1", stdout=io.StringIO())
    finally:
        connection_created.disconnect(count)
    assert Trial.objects.count() == 5
    writers = opened.read_text().split() if opened.exists() else []
    if connection.vendor != "postgresql":
        assert not writers  # SQLite writes on the run's own connection
        return
    assert 1 <= len(writers) <= pipeline.WRITERS  # a process may write several batches, never reconnecting
    assert len(set(writers)) == len(writers)
    for _ in range(50):  # a server process ends just after its client has closed the connection
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()")
            if cursor.fetchone()[0] == 1:
                break
        time.sleep(0.05)
    else:
        raise AssertionError("a writer's connection is still open")


@pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
def test_writer_processes_leave_the_run_s_own_connection_alone():
    # A forked writer that closed the connection it inherited would end the parent's session with it.
    if connection.vendor != "postgresql":
        pytest.skip("writer processes run on PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        before = cursor.fetchone()[0]
    call_command("ingest", str(SEEDS), "--batch-size", "1", stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] == before


@pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
def test_a_trial_given_twice_in_batches_written_at_once_ends_as_the_file_s_last_record(tmp_path, monkeypatch):
    # One trial per batch, so that on PostgreSQL several batches are written at once, and the first one slow: the
    # second record of NCT00000001 must wait for it, and then be the trial's next version.
    write_trials = writer.write_trials

    def slow_first(records, **kwargs):
        if any(record.public_title == "First" for record in records):
            time.sleep(0.5)
        return write_trials(records, **kwargs)

    monkeypatch.setattr(writer, "write_trials", slow_first)
    study = '{"protocolSection": {"identificationModule": {"nctId": "NCT0000000%d", "briefTitle": "%s"}}}'
    lines = [study % (1, "First"), study % (2, "Other"), study % (1, "Second"), study % (3, "Other")]
    (tmp_path / "studies.jsonl").write_text("\n".join(lines))
    out = io.StringIO()
    call_command("ingest", str(tmp_path), "--batch-size", "1", stdout=out)
    assert "3 created, 1 updated, 0 unchanged, 0 failed" in out.getvalue()
    trial = Trial.objects.get(registry_id="NCT00000001")
    assert trial.public_title == "Second"
    assert [version.snapshot_data["public_title"] for version in trial.sources.all()] == ["Second", "First"]


@pytest.mark.django_db
def test_an_ictrp_copy_does_not_replace_the_registrys_own_record(tmp_path):
    study = json.loads((Path(__file__).parent / "data" / "NCT06715774.json").read_text())
    study["protocolSection"]["identificationModule"]["nctId"] = "NCT04275947"
    (tmp_path / "own.json").write_text(json.dumps(study))
    ingest(tmp_path / "own.json")
    title = Trial.objects.get(registry_id="NCT04275947").public_title
    out, _ = ingest(Path(__file__).parent / "fixtures" / "ictrp" / "ICTRP-Results_18Mar2020-excerpt.xml")
    trial = Trial.objects.get(registry_id="NCT04275947")
    assert trial.public_title == title
    assert list(trial.sources.values_list("format", flat=True)) == ["ctgov-json"]
    assert "1 unchanged" in out


@pytest.mark.django_db
def test_a_batch_tells_unchanged_from_changed_records_of_stored_trials(seed_bytes):
    [stored] = detect.parse(seed_bytes("NCT06379243"))
    [changed] = detect.parse(seed_bytes("NCT06379243").replace(b"560 participants", b"600 participants"))
    [other] = detect.parse(seed_bytes("NCT07101562"))
    assert writer.write_trials([stored]) == [WriteResult.CREATED]
    results = writer.write_trials([stored, other, changed])
    assert results == [WriteResult.UNCHANGED, WriteResult.CREATED, WriteResult.UPDATED]
    assert Trial.objects.get(registry_id="NCT06379243").enrollment_target == 600
    assert SourceRecord.objects.filter(trial__registry_id="NCT06379243").count() == 2


@pytest.mark.django_db
def test_without_a_terminal_progress_is_a_line_every_so_many_trials(tmp_path, monkeypatch):
    monkeypatch.setattr("ingest.management.commands.ingest.LOG_EVERY", 2)
    study = '{"protocolSection": {"identificationModule": {"nctId": "NCT0000000%d", "briefTitle": "A"}}}'
    (tmp_path / "studies.jsonl").write_text("\n".join(study % number for number in range(1, 6)))
    _, err = ingest(tmp_path / "studies.jsonl", "--batch-size", "2")
    lines = err.splitlines()
    assert lines[0].startswith("2 trials, ") and "% of input, about " in lines[0] and lines[0].endswith("min left")
    assert len(lines) == 2
