"""Read inputs as streams, detect and parse each document, write records in batches, account for every failure."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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


@dataclass
class _Run:
    """The state of one run while it goes: the batch not yet written and the reports waiting for it."""

    ingest_run: IngestRun
    on_file: Callable[[FileReport], None]
    on_progress: Callable[[Progress], None]
    batch_size: int
    bytes_total: int | None
    started: float = field(default_factory=time.monotonic)
    batch: list[tuple[FileReport, str, TrialRecord]] = field(default_factory=list)
    waiting: list[FileReport] = field(default_factory=list)
    totals: Counter = field(default_factory=Counter)
    records: int = 0
    bytes_done: int = 0
    current: BinaryIO | None = None
    # On PostgreSQL, outside a transaction, batches are written by a thread with its own connection, so the
    # database builds one batch's rows and search documents while this thread parses the next batch.
    writer_thread: ThreadPoolExecutor | None = None
    in_flight: Future | None = None

    def add(self, report: FileReport, position: str, record: TrialRecord) -> None:
        self.batch.append((report, position, record))
        if len(self.batch) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        batch, reports = self.batch, self.waiting
        self.batch, self.waiting = [], []
        if self.writer_thread is None:
            self._write(batch, reports)
            return
        if self.in_flight is not None:
            self.in_flight.result()  # one batch is written while the next one is parsed, never more
        self.in_flight = self.writer_thread.submit(self._write, batch, reports)

    def finish(self) -> None:
        self.flush()
        if self.writer_thread is not None:
            self.in_flight.result()
            self.writer_thread.submit(connections.close_all).result()  # the thread's own connection
            self.writer_thread.shutdown()

    def _write(self, batch: list[tuple[FileReport, str, TrialRecord]], reports: list[FileReport]) -> None:
        if batch:
            _store(batch)
            reset_queries()  # with DEBUG on, Django keeps every query, a batch's texts included
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
        writer_thread=ThreadPoolExecutor(1) if _can_write_in_parallel() else None,
    )
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
    return writer.finish_run(state.ingest_run, files=len(inputs), counts=state.totals)


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


def _store(batch: list[tuple[FileReport, str, TrialRecord]]) -> None:
    """Write a batch in one transaction; if it fails, write its records one by one to find the bad one."""
    try:
        results = writer.write_trials(
            [record for _, _, record in batch], origins=[report.name for report, _, _ in batch]
        )
    except Exception:
        logger.debug("a batch of %d trials failed; writing them one at a time", len(batch), exc_info=True)
        results = None
    for index, (report, position, record) in enumerate(batch):
        if results is not None:
            report.counts[results[index]] += 1
            continue
        try:
            report.counts[writer.write_trial(record, origin=report.name)] += 1
        except Exception as error:  # a record the database refuses must not stop the file
            logger.debug("writing %s of %s failed", position, report.name, exc_info=True)
            report.failures.append((position, f"could not be stored: {error}"))
