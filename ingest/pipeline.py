"""Read files, detect and parse them, hand each record to the writer, and account for every failure."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import detect, writer
from .models import IngestRun
from .records import ParseError

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 256 * 1024 * 1024


@dataclass
class FileReport:
    name: str
    counts: Counter = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (position, reason)

    @property
    def ok(self) -> bool:
        return not self.failures


def files_under(paths: Iterable[str]) -> Iterator[Path]:
    """Every file named, and every file under each folder named, in a stable order."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(item for item in path.rglob("*") if item.is_file() and not item.name.startswith("."))
        else:
            yield path


def read_file(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ParseError(f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
    return path.read_bytes()


def ingest_file(name: str, read: Callable[[], bytes]) -> FileReport:
    """Ingest every record of one file; a bad record is reported and the others go on."""
    report = FileReport(name)
    records_read = 0
    position = ""  # where a parse error happened: the record after the last one read
    try:
        payload = read()
        for record in detect.parse(payload):
            records_read += 1
            position = f"record {records_read + 1}"
            try:
                report.counts[writer.write_trial(record, origin=name)] += 1
            except Exception as error:  # a record the database refuses must not stop the file
                stored_at = f"record {records_read} ({record.registry_id})"
                logger.debug("writing %s of %s failed", stored_at, name, exc_info=True)
                report.failures.append((stored_at, f"could not be stored: {error}"))
    except ParseError as error:
        report.failures.append((position, str(error)))
    except OSError as error:
        report.failures.append(("", f"could not be read: {error.strerror or error}"))
    except Exception as error:  # no input may crash a batch; the reason is reported instead
        logger.debug("parsing %s failed", name, exc_info=True)
        report.failures.append((position, f"could not be parsed: {type(error).__name__}: {error}"))
    if not report.counts and not report.failures:
        report.failures.append(("", "no trial record found"))
    return report


def run(
    sources: Iterable[tuple[str, Callable[[], bytes]]],
    *,
    description: list[str],
    on_file: Callable[[FileReport], None] = lambda report: None,
) -> IngestRun:
    """Ingest a batch of (name, reader) pairs as one recorded run."""
    ingest_run = writer.start_run(description)
    totals: Counter = Counter()
    files = 0
    for name, read in sources:
        files += 1
        report = ingest_file(name, read)
        totals.update(report.counts)
        totals["failed"] += len(report.failures)
        for position, reason in report.failures:
            writer.record_failure(ingest_run, name, reason, position)
        on_file(report)
    return writer.finish_run(ingest_run, files=files, counts=totals)
