"""Registry files as bounded streams: plain files, gzip, and zip or tar archives, each document named.

Nothing here reads a whole file into memory: gzip and tar are decompressed as they are read, zip members
one at a time. Archives are bounded in member count, uncompressed size and compression ratio, so a zip
bomb or a runaway archive stops with a clear reason instead of filling the disk or the memory.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from .records import ParseError

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 1024 * 1024


class UnreadableInput(ParseError):
    """An input that cannot be read any further: over its limits, or its compressed stream is broken."""


@dataclass(frozen=True)
class Limits:
    """What one input may expand to. The defaults fit the whole ClinicalTrials.gov download."""

    max_members: int = 1_000_000
    max_total_bytes: int = 64 * 1024**3
    max_member_bytes: int = 4 * 1024**3
    max_ratio: int = 100  # uncompressed / compressed; registry text compresses 5-20 times
    ratio_grace_bytes: int = 16 * 1024**2  # below this much output any ratio is fine

    def describe(self) -> str:
        return (
            f"at most {self.max_members:,} archive members, {describe_size(self.max_total_bytes)} uncompressed in all, "
            f"{describe_size(self.max_member_bytes)} per member, and a compression ratio of {self.max_ratio}:1"
        )


COMMAND_LINE = Limits()
UPLOAD = Limits(max_members=50_000, max_total_bytes=2 * 1024**3, max_member_bytes=512 * 1024**2)


def describe_size(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}".replace(".0 ", " ")
        count /= 1024
    raise AssertionError


@dataclass
class Budget:
    """Bytes and members used so far by one input, checked against its limits as they are read."""

    limits: Limits
    members: int = 0
    expanded: int = 0
    compressed: list[BinaryIO] = field(default_factory=list)  # the outer files, to measure the ratio

    def add_member(self, name: str) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise UnreadableInput(f"archive has more than {self.limits.max_members:,} members (at {name})")

    def add_bytes(self, count: int, member_total: int, name: str) -> None:
        self.expanded += count
        if member_total > self.limits.max_member_bytes:
            raise UnreadableInput(f"{name} expands to more than {describe_size(self.limits.max_member_bytes)}")
        if self.expanded > self.limits.max_total_bytes:
            raise UnreadableInput(f"archive expands to more than {describe_size(self.limits.max_total_bytes)}")
        if self.compressed and self.expanded > self.limits.ratio_grace_bytes:
            read = sum(stream.tell() for stream in self.compressed) or 1
            if self.expanded / read > self.limits.max_ratio:
                raise UnreadableInput(
                    f"{name} expands more than {self.limits.max_ratio} times its compressed size (a zip bomb?)"
                )


class _Metered(io.RawIOBase):
    """A decompressed stream whose output is counted against the budget as it is read."""

    def __init__(self, stream: BinaryIO, budget: Budget, name: str):
        self._stream, self._budget, self._name, self._total = stream, budget, name, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._stream.read(len(buffer))
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as error:
            raise UnreadableInput(f"{self._name} is corrupt or cut short: {error}") from None
        self._total += len(data)
        self._budget.add_bytes(len(data), self._total, self._name)
        buffer[: len(data)] = data
        return len(data)


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read to look at them."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count], self._head = self._head[:count], self._head[count:]
            return count
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@dataclass
class Document:
    """One file to parse: its name (``archive!/member`` inside archives), first bytes and the whole stream."""

    name: str
    head: bytes
    stream: BinaryIO  # starts at the first byte, head included


def documents(name: str, stream: BinaryIO, limits: Limits) -> Iterator[Document]:
    """The documents of one input, expanding gzip, zip and tar (also nested) as they are reached."""
    if not stream.seekable():
        stream = _Counting(stream)  # a pipe has no position: count what is read instead
    # The ratio is measured against what was read of the file itself, whatever the nesting.
    budget = Budget(limits, compressed=[stream])
    yield from _expand(name, stream, budget)


class _Counting(io.RawIOBase):
    """A stream that knows how many bytes were read from it (its tell), for streams that have no position."""

    def __init__(self, stream: BinaryIO):
        self._stream, self._read = stream, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        self._read += len(data)
        return len(data)

    def tell(self) -> int:
        return self._read


def head_of(stream: BinaryIO, size: int = 64 * 1024) -> tuple[bytes, BinaryIO]:
    """The first bytes of a stream and a stream that still starts with them (the same one if seekable)."""
    if stream.seekable():
        start = stream.tell()
        head = stream.read(size)
        stream.seek(start)
        return head, stream
    head = b""
    while len(head) < size:
        data = stream.read(size - len(head))
        if not data:
            break
        head += data
    return head, io.BufferedReader(_Prefixed(head, stream), CHUNK)


def _expand(name: str, stream: BinaryIO, budget: Budget) -> Iterator[Document]:
    head, stream = head_of(stream)
    if head.startswith(GZIP_MAGIC):
        inner = gzip.GzipFile(fileobj=stream, mode="rb")
        yield from _expand(name.removesuffix(".gz").removesuffix(".gzip"), _meter(inner, budget, name), budget)
    elif head.startswith(ZIP_MAGIC):
        yield from _zip_members(name, stream, budget)
    elif len(head) > 262 and head[257:262] == b"ustar":
        yield from _tar_members(name, stream, budget)
    else:
        yield Document(name, head, stream)


def _meter(stream: BinaryIO, budget: Budget, name: str) -> BinaryIO:
    return io.BufferedReader(_Metered(stream, budget, name), CHUNK)


def _tar_members(name: str, stream: BinaryIO, budget: Budget) -> Iterator[Document]:
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                member_name = f"{name}!/{member.name}"
                budget.add_member(member_name)
                content = archive.extractfile(member)
                if content is not None:
                    yield from _expand(member_name, _meter(content, budget, member_name), budget)
    except tarfile.TarError as error:
        raise ParseError(f"broken tar archive: {error}") from None


def _zip_members(name: str, stream: BinaryIO, budget: Budget) -> Iterator[Document]:
    if not stream.seekable():
        raise ParseError("a zip archive inside another archive cannot be read; unpack the outer file first")
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as error:
        raise ParseError(f"broken zip archive: {error}") from None
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            member_name = f"{name}!/{info.filename}"
            budget.add_member(member_name)
            if info.file_size > budget.limits.max_ratio * max(info.compress_size, 1) + budget.limits.ratio_grace_bytes:
                raise UnreadableInput(f"{member_name} expands more than {budget.limits.max_ratio} times (a zip bomb?)")
            with archive.open(info) as content:
                yield from _expand(member_name, _meter(content, budget, member_name), budget)
