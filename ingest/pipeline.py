"""Read inputs as streams, detect and parse each document, write records in batches, account for every failure."""

from __future__ import annotations

import gc
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import BinaryIO

from django.db import connection, reset_queries

from . import detect, writer
from .inputs import COMMAND_LINE, Document, Limits, UnreadableInput, documents
from .models import IngestRun
from .records import ParseError, RecordFailure, TrialRecord, UnparsedRecord
from .writers import WriterProcesses

logger = logging.getLogger(__name__)

BATCH_SIZE = 500  # trials per transaction: large enough for bulk inserts, small enough to redo one by one
WRITERS = 3  # processes parsing and writing batches at once on PostgreSQL, each with its own connection
# Container allocations between collections of the youngest generation, and collections of each generation
# between collections of the next (Python's defaults: 700, 10, 10). See _rare_collections.
COLLECTION_THRESHOLDS = (50_000, 100, 100)


@dataclass(frozen=True)
class Input:
    """One file given to a run (a path, an upload, standard input); archives hold many documents."""

    name: str
    open: Callable[[], BinaryIO]
    size: int | None = None


@dataclass
class FileReport:
    name: str
    counts: Counter = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (position, reason)

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class Progress:
    records: int
    bytes_read: int
    bytes_total: int | None
    seconds: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


def path_inputs(paths: Iterable[str]) -> list[Input]:
    """Every file named, and every file under each folder named, in a stable order."""
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files += sorted(item for item in path.rglob("*") if item.is_file() and not item.name.startswith("."))
        else:
            files.append(path)
    return [Input(str(path), partial(path.open, "rb"), _size(path)) for path in files]


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None  # reported when the file is opened


@dataclass(frozen=True)
class _Pending:
    """A record cut from its file, to be parsed where it is written; `prefix` names the archive member."""

    record: UnparsedRecord
    prefix: str


Batch = list[tuple[FileReport, str, TrialRecord | _Pending]]  # records with the file and position each came from
Item = tuple[str, str, TrialRecord | _Pending]  # a batch's record as a writer gets it: file name, position, record
Parsed = tuple[str, str, TrialRecord | str]  # the same, parsed: a record, or why it could not be read
Result = list[tuple[str, writer.WriteResult | str]]  # each record's position and what became of it


@dataclass
class _Run:
    """The state of one run while it goes: the batch not yet written and the reports waiting for it."""

    ingest_run: IngestRun
    on_file: Callable[[FileReport], None]
    on_progress: Callable[[Progress], None]
    batch_size: int
    bytes_total: int | None
    started: float = field(default_factory=time.monotonic)
    batch: Batch = field(default_factory=list)
    waiting: list[FileReport] = field(default_factory=list)
    totals: Counter = field(default_factory=Counter)
    records: int = 0
    bytes_done: int = 0
    current: BinaryIO | None = None
    # On PostgreSQL, outside a transaction, batches are parsed and written by processes of their own while this one
    # reads on; their results come back in the order the batches were given, with the reports waiting for each.
    writers: WriterProcesses | None = None
    in_flight: deque[tuple[Batch, list[FileReport]]] = field(default_factory=deque)

    def add(self, report: FileReport, position: str, record: TrialRecord | _Pending) -> None:
        self.batch.append((report, position, record))
        if len(self.batch) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        batch, reports = self.batch, self.waiting
        self.batch, self.waiting = [], []
        if not batch and self.in_flight:  # files that ended with the last batch given close when it is counted
            self.in_flight[-1][1].extend(reports)
            return
        items = [(report.name, position, record) for report, position, record in batch]
        if self.writers is None or not batch:
            self._count(batch, reports, _store(_parse(items)[0]))
            return
        self.writers.submit(items)
        self.in_flight.append((batch, reports))
        for result in self.writers.finished():
            self._count(*self.in_flight.popleft(), result)

    def finish(self) -> None:
        self.flush()
        if self.writers is not None:
            for result in self.writers.finish():
                self._count(*self.in_flight.popleft(), result)

    def _count(self, batch: Batch, reports: list[FileReport], result: Result) -> None:
        """Count a written batch's outcomes in their files' reports, then close the reports of files now done."""
        for (report, _, _), (position, outcome) in zip(batch, result, strict=True):
            if isinstance(outcome, writer.WriteResult):
                report.counts[outcome] += 1
            else:
                report.failures.append((position, outcome))
        if batch:
            self.records += len(batch)
            self.on_progress(self._progress())
        for report in reports:
            self.totals.update(report.counts)
            self.totals["failed"] += len(report.failures)
            for position, reason in report.failures:
                writer.record_failure(self.ingest_run, report.name, reason, position)
            self.on_file(report)

    def _progress(self) -> Progress:
        try:
            current = self.current.tell() if self.current is not None else 0
        except (OSError, ValueError):  # a pipe has no position; a file closed meanwhile is counted as done
            current = 0
        return Progress(self.records, self.bytes_done + current, self.bytes_total, time.monotonic() - self.started)


@contextmanager
def _rare_collections():
    """Python's cyclic garbage collector, run less often for the length of a run.

    Parsing allocates millions of short-lived containers while thousands of records wait in batches, and at the
    default thresholds the collector walks every waiting record again and again: a fifth of the run's Python
    time (measured at 20,000 ClinicalTrials.gov studies: 1.31 -> 1.02-1.05 ms a trial). Records hold no cycles, so
    reference counting frees them; the rare cycles (exceptions and their tracebacks) are still collected.
    """
    thresholds = gc.get_threshold()
    gc.freeze()  # what the process held before the run is not walked at all
    gc.set_threshold(*COLLECTION_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


@_rare_collections()
def run(
    inputs: Iterable[Input],
    *,
    description: list[str],
    limits: Limits = COMMAND_LINE,
    on_file: Callable[[FileReport], None] = lambda report: None,
    on_progress: Callable[[Progress], None] = lambda progress: None,
    batch_size: int = BATCH_SIZE,
    writers: int = 0,
) -> IngestRun:
    """Ingest inputs as one recorded run; a bad file or record is reported and the others go on.

    With `writers`, that many processes parse and write batches on PostgreSQL while this one reads on (outside a
    transaction: each writes its batches in transactions of its own)."""
    inputs = list(inputs)
    sizes = [item.size for item in inputs]
    state = _Run(
        writer.start_run(description),
        on_file,
        on_progress,
        batch_size,
        None if None in sizes else sum(sizes),
        writers=WriterProcesses(writers, _parse, _store, _lost) if writers and _can_write_in_parallel() else None,
    )
    try:
        for item in inputs:
            report = FileReport(item.name)
            found = 0
            for position, record in _read(item, report, limits, state):
                state.add(report, position, record)
                found += 1
            if not found and not report.failures:
                report.failures.append(("", "no trial record found"))
            state.bytes_done += item.size or 0
            state.current = None
            state.waiting.append(report)
            if not state.batch:
                state.flush()
        state.finish()
    finally:
        if state.writers is not None:
            state.writers.close()
    return writer.finish_run(state.ingest_run, files=len(inputs), counts=state.totals)


def _can_write_in_parallel() -> bool:
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _read(item: Input, report: FileReport, limits: Limits, state: _Run) -> Iterator[tuple[str, TrialRecord | _Pending]]:
    """The records of one input with their positions; failures go to the report."""
    try:
        with item.open() as stream:
            state.current = stream
            for document in documents(item.name, stream, limits):
                member = document.name.partition("!/")[2]
                yield from _document_records(document, member, report)
    except ParseError as error:  # the archive itself is broken or over its limits
        report.failures.append(("", str(error)))
    except OSError as error:
        report.failures.append(("", f"could not be read: {error.strerror or error}"))


def _document_records(
    document: Document, member: str, report: FileReport
) -> Iterator[tuple[str, TrialRecord | _Pending]]:
    prefix = f"{member}: " if member else ""
    count = 0
    try:
        for result in detect.parse_stream(document.head, document.stream, deferred=True):
            count += 1
            if isinstance(result, RecordFailure):
                report.failures.append((prefix + result.position, result.reason))
            elif isinstance(result, UnparsedRecord):
                yield f"{prefix}record {count}", _Pending(result, prefix)
            else:
                yield f"{prefix}record {count} ({result.registry_id})", result
    except UnreadableInput:
        raise
    except ParseError as error:
        where = f"{prefix}record {count + 1}" if count else member
        report.failures.append((where, str(error)))
    except Exception as error:  # no input may crash a batch; the reason is reported instead
        logger.debug("parsing %s failed", document.name, exc_info=True)
        where = f"{prefix}record {count + 1}" if count else member
        report.failures.append((where, f"could not be parsed: {type(error).__name__}: {error}"))
    else:
        if not count and member:
            report.failures.append((member, "no trial record found"))


def _parse(items: list[Item]) -> tuple[list[Parsed], set[tuple[str, str]]]:
    """Parse the records of a batch yet to be parsed; returns them with the trials the batch holds."""
    parsed = [(origin, *_parsed(position, record)) for origin, position, record in items]
    return parsed, {(record.registry, record.registry_id) for _, _, record in parsed if isinstance(record, TrialRecord)}


def _parsed(position: str, record: TrialRecord | _Pending) -> tuple[str, TrialRecord | str]:
    if not isinstance(record, _Pending):
        return position, record
    try:
        result = record.record.parse()
    except Exception as error:  # no input may crash a batch; the reason is reported instead
        logger.debug("parsing %s failed", position, exc_info=True)
        return position, f"could not be parsed: {type(error).__name__}: {error}"
    if isinstance(result, RecordFailure):
        return record.prefix + result.position, result.reason
    return f"{position} ({result.registry_id})", result


def _store(parsed: list[Parsed]) -> Result:
    """Write a batch's records in one transaction; if that fails, one by one to find the record that fails."""
    records = [(origin, position, record) for origin, position, record in parsed if isinstance(record, TrialRecord)]
    outcomes = iter(_write(records))
    return [(position, next(outcomes) if isinstance(record, TrialRecord) else record) for _, position, record in parsed]


def _lost(items: list[Item], reason: str) -> Result:
    return [(position, f"could not be stored: {reason}") for _, position, _ in items]


def _write(records: list[tuple[str, str, TrialRecord]]) -> list[writer.WriteResult | str]:
    """What became of each record: written (created, updated, unchanged), or why it could not be stored."""
    if not records:
        return []
    try:
        return writer.write_trials([record for _, _, record in records], origins=[origin for origin, _, _ in records])
    except Exception:
        logger.debug("a batch of %d trials failed; writing them one at a time", len(records), exc_info=True)
    finally:
        reset_queries()  # with DEBUG on, Django keeps every query, a batch's texts included
    outcomes: list[writer.WriteResult | str] = []
    for origin, position, record in records:
        try:
            outcomes.append(writer.write_trial(record, origin=origin))
        except Exception as error:  # a record the database refuses must not stop the file
            logger.debug("writing %s of %s failed", position, origin, exc_info=True)
            outcomes.append(f"could not be stored: {error}")
    return outcomes
