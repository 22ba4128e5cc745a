"""Batches parsed and written by processes of their own, each with its own database connection.

On two cores, parsing and writing in one interpreter left a core idle a sixth of the time: the writer threads waited
for the interpreter lock while PostgreSQL waited for their rows. A writer process parses its batch itself (records
of JSON Lines arrive as lines), so the parent only cuts files into records.

Each batch goes in two steps: the process parses it and says which trials it holds, then writes it when told to.
A batch holding a trial that an earlier batch still being written also holds waits for it, so that a trial given
twice in a file ends as the file's last record, as when one process writes everything.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from django.db import connections

# Fork: a writer starts with the parent's settings and modules as they are (a test database's name included),
# without setting Django up again.
_FORK = multiprocessing.get_context("fork")

Keys = set[tuple[str, str]]


@dataclass
class _Writer:
    process: Any
    connection: Connection


@dataclass
class _Batch:
    writer: _Writer
    items: list
    keys: Keys | None = None  # the trials it holds, once parsed
    writing: bool = False
    result: list | None = None


@dataclass
class WriterProcesses:
    """`count` processes; `parse(items)` gives (parsed, trial keys) and `write(parsed)` a batch's result."""

    count: int
    parse: Callable[[list], tuple[Any, Keys]]
    write: Callable[[Any], list]
    # What a batch's result is when its process ended before giving one: a result from the items and a reason.
    lost: Callable[[list, str], list]
    _idle: list[_Writer] = field(default_factory=list)
    _batches: deque[_Batch] = field(default_factory=deque)  # in the order given, until their results are taken

    def __post_init__(self) -> None:
        self._idle = [self._start() for _ in range(self.count)]

    def submit(self, items: list) -> None:
        """Give a batch to a process, waiting for one to be free."""
        self._wait(timeout=0)  # batches parsed meanwhile start writing
        while not self._idle:
            self._wait()
        writer = self._idle.pop()
        writer.connection.send(items)
        self._batches.append(_Batch(writer, items))

    def finished(self) -> Iterator[list]:
        """Results of the oldest batches that are done, in the order they were given; none is waited for."""
        while self._batches and self._batches[0].result is not None:
            yield self._batches.popleft().result

    def finish(self) -> Iterator[list]:
        """Every remaining result, in the order the batches were given."""
        while self._batches:
            if self._batches[0].result is None:
                self._wait()
            yield from self.finished()

    def close(self) -> None:
        """Stop the processes: idle ones when told, busy ones (a run interrupted) at once, their work rolled back."""
        for batch in self._batches:
            if batch.result is None:
                batch.writer.process.terminate()
        for writer in self._idle:
            writer.connection.send(None)
        for writer in [*self._idle, *(batch.writer for batch in self._batches if batch.result is None)]:
            writer.process.join()
            writer.connection.close()
        self._idle, self._batches = [], deque()

    def _start(self) -> _Writer:
        ours, theirs = _FORK.Pipe()
        process = _FORK.Process(target=self._serve, args=(theirs,), name="ingest-writer", daemon=True)
        process.start()
        theirs.close()
        return _Writer(process, ours)

    def _serve(self, connection: Connection) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupted run stops its writers itself
        # Connections of their own: one inherited from the parent is left alone (closing it would end the parent's
        # session, and a connection used by two processes breaks).
        for alias in connections:
            connections[alias] = connections.create_connection(alias)
        try:
            while (items := connection.recv()) is not None:
                parsed, keys = self.parse(items)
                connection.send(keys)
                connection.recv()
                connection.send(self.write(parsed))
        finally:
            connections.close_all()

    def _wait(self, timeout: float | None = None) -> None:
        """Wait for messages from busy processes, take them, then let every batch write that may."""
        busy = {batch.writer.connection: batch for batch in self._batches if batch.result is None}
        for ready in wait(list(busy), timeout):
            batch = busy[ready]
            try:
                message = ready.recv()
            except EOFError:
                batch.writer.process.join()
                code = batch.writer.process.exitcode
                batch.result = self.lost(batch.items, f"the writing process ended unexpectedly (exit code {code})")
                ready.close()
                self._idle.append(self._start())
                continue
            if batch.keys is None:
                batch.keys = message
            else:
                batch.result = message
                self._idle.append(batch.writer)
        self._release()

    def _release(self) -> None:
        """Tell each parsed batch to write unless an earlier batch not yet written holds one of its trials; a batch
        after one whose trials are not known yet waits too."""
        held: Keys = set()
        for batch in self._batches:
            if batch.result is not None:
                continue
            if batch.keys is None:
                return
            if not batch.writing and not batch.keys & held:
                batch.writing = True
                batch.writer.connection.send(True)
            held |= batch.keys
