"""Read inputs as streams, detect and parse each document, write records in batches, account for every failure."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import BinaryIO

from django.db import connection, connections, reset_queries

from . import detect, writer
from .inputs import COMMAND_LINE, Document, Limits, UnreadableInput, documents
from .models import IngestRun
from .records import ParseError, RecordFailure, TrialRecord

logger = logging.getLogger(__name__)

BATCH_SIZE = 500  # trials per transaction: large enough for bulk inserts, small enough to redo one by one
WRITERS = 3  # batches written at once on PostgreSQL, each in a transaction on its own connection
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


Batch = list[tuple[FileReport, str, TrialRecord]]  # records with the file and position each came from


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
    # On PostgreSQL, outside a transaction, batches are written by threads with connections of their own: while
    # this thread parses, the database builds one batch's rows and search documents as the next batch is sent.
    writers: ThreadPoolExecutor | None = None
    # Batches being written, oldest first, with the trials each holds; their results are counted in this order.
    in_flight: deque[tuple[Future, set[tuple[str, str]], Batch, list[FileReport]]] = field(default_factory=deque)

    def add(self, report: FileReport, position: str, record: TrialRecord) -> None:
        self.batch.append((report, position, record))
        if len(self.batch) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        batch, reports = self.batch, self.waiting
        self.batch, self.waiting = [], []
        if self.writers is None:
            self._count(batch, _store(batch), reports)
            return
        trials = {(record.registry, record.registry_id) for _, _, record in batch}
        # A trial still being written in an earlier batch waits for it, so a record given twice keeps its order.
        while self.in_flight and (
            len(self.in_flight) >= WRITERS or any(trials & earlier for _, earlier, _, _ in self.in_flight)
        ):
            self._count_oldest()
        self.in_flight.append((self.writers.submit(_store, batch), trials, batch, reports))

    def finish(self) -> None:
        self.flush()
        while self.in_flight:
            self._count_oldest()

    def _count_oldest(self) -> None:
        future, _, batch, reports = self.in_flight.popleft()
        self._count(batch, future.result(), reports)

    def _count(self, batch: Batch, outcomes: list[writer.WriteResult | str], reports: list[FileReport]) -> None:
        """Count a written batch's outcomes in their files' reports, then close the reports of files now done."""
        for (report, position, _), outcome in zip(batch, outcomes, strict=True):
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
) -> IngestRun:
    """Ingest inputs as one recorded run; a bad file or record is reported and the others go on."""
    inputs = list(inputs)
    sizes = [item.size for item in inputs]
    state = _Run(
        writer.start_run(description),
        on_file,
        on_progress,
        batch_size,
        None if None in sizes else sum(sizes),
        writers=ThreadPoolExecutor(WRITERS, thread_name_prefix="ingest-writer") if _can_write_in_parallel() else None,
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
            _close_writer_connections(state.writers)
    return writer.finish_run(state.ingest_run, files=len(inputs), counts=state.totals)


def _close_writer_connections(writers: ThreadPoolExecutor) -> None:
    """Close the connection of each writer thread, then the threads: a connection lasts the whole run, as a new
    one costs PostgreSQL a process and cold caches (reconnecting per batch cost a tenth of the run's time)."""
    barrier = threading.Barrier(WRITERS)

    def close() -> None:
        barrier.wait()  # no thread takes a second of these tasks: each waits here until all are taken
        connections.close_all()

    for closing in [writers.submit(close) for _ in range(WRITERS)]:
        closing.result()
    writers.shutdown()


def _can_write_in_parallel() -> bool:
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _read(item: Input, report: FileReport, limits: Limits, state: _Run) -> Iterator[tuple[str, TrialRecord]]:
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


def _document_records(document: Document, member: str, report: FileReport) -> Iterator[tuple[str, TrialRecord]]:
    prefix = f"{member}: " if member else ""
    count = 0
    try:
        for result in detect.parse_stream(document.head, document.stream):
            count += 1
            if isinstance(result, RecordFailure):
                report.failures.append((prefix + result.position, result.reason))
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


def _store(batch: Batch) -> list[writer.WriteResult | str]:
    """Write a batch in one transaction; if it fails, write its records one by one to find the bad one.

    Returns what became of each record: written (created, updated, unchanged), or why it could not be stored."""
    try:
        return writer.write_trials([record for _, _, record in batch], origins=[report.name for report, _, _ in batch])
    except Exception:
        logger.debug("a batch of %d trials failed; writing them one at a time", len(batch), exc_info=True)
    finally:
        reset_queries()  # with DEBUG on, Django keeps every query, a batch's texts included
    outcomes: list[writer.WriteResult | str] = []
    for report, position, record in batch:
        try:
            outcomes.append(writer.write_trial(record, origin=report.name))
        except Exception as error:  # a record the database refuses must not stop the file
            logger.debug("writing %s of %s failed", position, report.name, exc_info=True)
            outcomes.append(f"could not be stored: {error}")
    return outcomes
