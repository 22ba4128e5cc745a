import gzip
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ingest.inputs import Limits, UnreadableInput, documents
from ingest.models import IngestFailure
from trials.models import SourceRecord, Trial

STUDIES = Path(__file__).resolve().parents[2] / "bench" / "data" / "ctgov-studies.jsonl.gz"
LIMITS = Limits()


def study_lines(count: int) -> list[bytes]:
    with gzip.open(STUDIES) as lines:
        return [next(lines).rstrip(b"\n") for _ in range(count)]


def names_and_bytes(name: str, payload: bytes, limits: Limits = LIMITS) -> list[tuple[str, bytes]]:
    return [(document.name, document.stream.read()) for document in documents(name, io.BytesIO(payload), limits)]


def tar_of(members: dict[str, bytes], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_plain_file_is_one_document_with_its_bytes():
    assert names_and_bytes("a.json", b'{"x": 1}') == [("a.json", b'{"x": 1}')]


def test_gzip_is_read_through_and_loses_its_suffix():
    assert names_and_bytes("studies.jsonl.gz", gzip.compress(b"line\n" * 3)) == [("studies.jsonl", b"line\n" * 3)]


def test_zip_and_tar_members_are_documents_named_inside_the_archive():
    members = {"NCT0000xxxx/NCT00000102.xml": b"<a/>", "NCT0000xxxx/NCT00000104.xml": b"<b/>"}
    expected = [(f"all.zip!/{name}", data) for name, data in members.items()]
    assert names_and_bytes("all.zip", zip_of(members)) == expected
    expected = [(f"all.tar!/{name}", data) for name, data in members.items()]
    assert names_and_bytes("all.tar.gz", tar_of(members)) == expected
    assert names_and_bytes("all.tar", tar_of(members, "w")) == expected


def test_an_archive_inside_an_archive_is_expanded():
    inner = gzip.compress(b"line\n")
    assert names_and_bytes("outer.tar", tar_of({"part.jsonl.gz": inner}, "w")) == [("outer.tar!/part.jsonl", b"line\n")]


def test_a_gzip_bomb_stops_at_the_compression_ratio():
    bomb = gzip.compress(b"\0" * 20_000_000)
    with pytest.raises(UnreadableInput, match="expands more than 100 times"):
        names_and_bytes("bomb.gz", bomb, Limits(ratio_grace_bytes=1_000_000))


def test_a_zip_bomb_is_refused_before_it_is_read():
    bomb = zip_of({"bomb.json": b" " * 30_000_000})
    with pytest.raises(UnreadableInput, match="zip bomb"):
        names_and_bytes("bomb.zip", bomb, Limits(ratio_grace_bytes=1_000_000))


def test_archives_are_bounded_in_members_and_size():
    members = {f"{number}.json": b"{}" for number in range(5)}
    with pytest.raises(UnreadableInput, match="more than 3 members"):
        names_and_bytes("many.zip", zip_of(members), Limits(max_members=3))
    with pytest.raises(UnreadableInput, match="expands to more than"):
        names_and_bytes("big.tar.gz", tar_of({"a": b"x" * 5000}), Limits(max_total_bytes=4096, max_member_bytes=4096))


def test_a_truncated_gzip_is_reported_not_raised_as_a_crash():
    payload = gzip.compress(bytes(range(256)) * 4000)[:2000]
    with pytest.raises(UnreadableInput, match="corrupt or cut short"):
        names_and_bytes("cut.gz", payload)


@pytest.mark.django_db
def test_an_archive_ingests_member_by_member_and_reports_the_bad_one(tmp_path):
    first, second = study_lines(2)
    archive = tmp_path / "export.tar.gz"
    archive.write_bytes(tar_of({"a.json": first, "notes.txt": b"not a registry file", "b.jsonl": second}))
    with pytest.raises(CommandError):
        call_command("ingest", str(archive), stdout=io.StringIO(), stderr=io.StringIO())
    assert Trial.objects.count() == 2
    failure = IngestFailure.objects.get()
    assert (failure.source, failure.position) == (str(archive), "notes.txt")
    assert "not a recognised registry format" in failure.reason


@pytest.mark.django_db
def test_json_in_every_layout_gives_the_same_trials(tmp_path):
    lines = study_lines(3)
    studies = [json.loads(line) for line in lines]
    layouts = {
        "lines.jsonl.gz": gzip.compress(b"\n".join(lines) + b"\n"),
        "array.json": json.dumps(studies, indent=2).encode(),
        "page.json": json.dumps({"studies": studies, "nextPageToken": "abc"}).encode(),
        "bulk.zip": zip_of(
            {
                f"{study['protocolSection']['identificationModule']['nctId']}.json": json.dumps(study).encode()
                for study in studies
            }
        ),
    }
    expected = {study["protocolSection"]["identificationModule"]["nctId"] for study in studies}
    for name, payload in layouts.items():
        (tmp_path / name).write_bytes(payload)
        out = io.StringIO()
        call_command("ingest", str(tmp_path / name), stdout=out)
        assert set(Trial.objects.values_list("registry_id", flat=True)) == expected, name
    # The same content in four layouts: created once, then left alone.
    assert "3 unchanged" in out.getvalue()


@pytest.mark.django_db
def test_loading_the_same_archive_twice_changes_nothing(tmp_path):
    fixtures = Path(__file__).parent / "fixtures" / "ctgov-xml"
    archive = tmp_path / "AllPublicXML.tar.gz"
    archive.write_bytes(tar_of({f"NCT0000xxxx/{path.name}": path.read_bytes() for path in sorted(fixtures.iterdir())}))
    first, second = io.StringIO(), io.StringIO()
    call_command("ingest", str(archive), stdout=first)
    versions = SourceRecord.objects.count()
    call_command("ingest", str(archive), stdout=second)
    assert "7 created" in first.getvalue()
    assert "0 created, 0 updated, 7 unchanged, 0 failed" in second.getvalue()
    assert SourceRecord.objects.count() == versions == 7


class Pipe(io.RawIOBase):
    """Standard input from a pipe: readable, no position."""

    def __init__(self, payload: bytes):
        self._data = io.BytesIO(payload)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._data.readinto(buffer)


def test_a_pipe_is_read_and_bounded_like_a_file():
    payload = gzip.compress(b"line\n" * 3)
    assert [(d.name, d.stream.read()) for d in documents("<stdin>", Pipe(payload), LIMITS)] == [
        ("<stdin>", b"line\n" * 3)
    ]
    bomb = gzip.compress(b"\0" * 20_000_000)
    with pytest.raises(UnreadableInput, match="expands more than 100 times"):
        [d.stream.read() for d in documents("<stdin>", Pipe(bomb), Limits(ratio_grace_bytes=1_000_000))]
