"""Batch coding: a stream of encounters in, one output record per input record, in order.

A batch file may hold millions of encounters, so it is read in chunks of records (lines of
JSONL here, row batches of Parquet in engine.io.parquet), the chunks are coded in worker
processes, and each chunk's records are written as soon as every earlier chunk has been.
Memory stays constant (a bounded number of chunks in flight, each bounded in records and
bytes, and over-long records kept as their length only), and a bad record or a worker
process that dies costs only the records concerned: every input record yields exactly one
output record, a result or an error record naming the path.

The records and chunks are those of engine.io.records; the worker processes, engine.io.pool.

Example:
    with open_source("big.jsonl") as source:
        tally = code_chunks(source.chunks, sys.stdout, ChunkCoder(engine.load(), "jsonl"),
                            CoderSpec(None), jobs=4)
"""
from __future__ import annotations

import contextlib
import functools
import io
import itertools
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import BinaryIO, TextIO

import attrs

from engine.core.coder import Coder
from engine.core.encounter import EncounterError
from engine.core.jsonin import DecodeError, decode_record
from engine.io import output
from engine.io.records import CHUNK_BYTES, CHUNK_LINES, MAX_RECORD_BYTES, Chunk, InputError, Source, TooLong, Unreadable
from engine.core.registry import Registry
from engine.io.render import encode_records



@attrs.frozen
class Coded:
    """A chunk's output and its counts. The output is UTF-8 text, each record followed by a
    newline: in the format asked for, or JSONL for "parquet", which engine.io.parquet.ResultWriter
    reads into Arrow rows in the batch's own process, so that a worker needs no pyarrow."""

    output: bytes
    records: int
    rejected: int
    size: int


@attrs.frozen
class CoderSpec:
    """What a worker process needs to build the same Coder as the parent (a loaded registry
    need not pickle, and with spawn or forkserver a worker starts from nothing)."""

    ruleset: str | None
    engine: str = "compiled"
    payer: str | None = None
    cache: bool = False  # through the ruleset cache, as the parent loaded it (engine.core.registry)

    def build(self) -> Coder:
        return Coder(Registry.from_path(self.ruleset, cache=self.cache), self.engine, self.payer)


@attrs.frozen
class ChunkCoder:
    """Codes every record of a chunk with `coder` and renders it in `fmt` (one of
    engine.io.render.FORMATS, or "parquet": see Coded)."""

    coder: Coder
    fmt: str

    def __call__(self, chunk: Chunk) -> Coded:
        records = (code_record(self.coder, number, raw) for number, raw in enumerate(chunk.records, start=chunk.first))
        return self._coded(records, len(chunk.records), chunk.size)

    def lost(self, chunk: Chunk, errors: tuple[BaseException, ...]) -> Coded:
        """Error records for a chunk no worker could code, naming what went wrong each time."""
        last = chunk.first + len(chunk.records) - 1
        message = (f"not coded: the worker coding lines {chunk.first}-{last} failed "
                   f"({_describe(errors[0])}) and so did a fresh worker retrying them ({_describe(errors[-1])})")
        return self._coded([error_record(number, None, "", message) for number in range(chunk.first, last + 1)],
                           last + 1 - chunk.first, chunk.size)

    def _coded(self, records: Iterable[dict], count: int, size: int) -> Coded:
        """The output of `count` records, taken from `records` as they are encoded: a text
        format writes each result while it is fresh in the cache, not after the chunk's
        thousands (bench: 94 -> 87 µs a typical-day record in a chunk of 2,000)."""
        rejected = 0

        def counted():
            nonlocal rejected
            for record in records:
                rejected += "error" in record
                yield record
        output = encode_records(counted(), "jsonl" if self.fmt == "parquet" else self.fmt)
        return Coded(output, count, rejected, size)


def _describe(error: BaseException) -> str:
    from concurrent.futures.process import BrokenProcessPool  # a chunk is lost only where workers ran

    if isinstance(error, BrokenProcessPool):
        return "its process died"
    return f"{type(error).__name__}: {error}"


def code_record(coder: Coder, number: int, raw: object) -> dict:
    """One output record for one input record: a result, or an error naming the path.

    `raw` is JSON text (bytes), TooLong, Unreadable, or a value already decoded (a Parquet
    row). Whatever goes wrong with one record, an internal error included, stays in its record;
    an error record names the encounter by its declared id field (Coder.id_field) when that
    holds text.
    """
    if isinstance(raw, TooLong):
        return error_record(number, None, "", f"record too long: {raw.size:,} bytes (at most {MAX_RECORD_BYTES:,})")
    if isinstance(raw, Unreadable):
        return error_record(number, None, "", raw.reason)
    data = raw
    if isinstance(raw, bytes):
        try:
            coded = coder.code_json(raw)
        except Exception:  # an internal error: the careful way below meets it too, and names the record
            coded = None
        if coded is not None:
            return coded
        try:
            data = decode_record(raw, coder.id_field)
        except DecodeError as error:
            return error_record(number, error.encounter, error.path, error.message)
    encounter_id = data.get(coder.id_field) if isinstance(data, dict) else None
    if not isinstance(encounter_id, str):
        encounter_id = None
    try:
        return coder.code_dict(data)
    except EncounterError as error:
        return error_record(number, encounter_id, error.path, error.message)
    except Exception as error:  # a fault in the engine or ruleset must not end the batch
        return error_record(number, encounter_id, "", f"internal error: {type(error).__name__}: {error}")


def error_record(number: int, encounter_id: str | None, path: str, message: str) -> dict:
    return {"line": number, "encounter": encounter_id, "error": {"path": path, "message": message}}


def open_source(path: str) -> Source:
    """A .json file (one record), any other file (one record per line) or "-" (standard input).

    Raises:
        InputError: the file cannot be opened; or later, from the chunks, read on.
    """
    with reading(path):
        stream = open_input(path)
    return Source(_read_on(read_chunks(stream, extension(path) == ".json"), path), input_size(stream), stream)


def open_input(path: str) -> BinaryIO:
    """The file at `path` opened for reading bytes, or standard input for "-".

    Raises:
        OSError: the file cannot be opened.
        InputError: standard input is closed (`infuse code - <&-`): Python has no sys.stdin.
    """
    if path != "-":
        return open(path, "rb")
    if sys.stdin is None:
        raise InputError("cannot read standard input: it is closed")
    return sys.stdin.buffer


@contextlib.contextmanager
def reading(path: str) -> Iterator[None]:
    """While in effect, a failure to read is InputError naming `path` ("-": standard input)."""
    try:
        yield
    except OSError as error:
        raise InputError(f"cannot read {'standard input' if path == '-' else path}: {error.strerror}") from None


def _read_on(chunks: Iterator[Chunk], path: str) -> Iterator[Chunk]:
    """`chunks`, with a failure to read on (an I/O error, standard input not open for reading)
    as InputError."""
    with reading(path):
        yield from chunks


def extension(path: str) -> str:
    """The extension of `path` in lower case, by which the command line tells its files
    apart: ED.JSON is one encounter as ed.json is, X.PARQUET a Parquet file."""
    return os.path.splitext(path)[1].lower()


def read_chunks(stream: BinaryIO, single: bool, lines: int = CHUNK_LINES,
                size: int = CHUNK_BYTES) -> Iterator[Chunk]:
    """The input in chunks of at most `lines` records and about `size` bytes.

    `single`: the whole stream is one record (a .json file); else one record per line, the
    line end removed, empty lines included (each yields an error record like any bad one).
    """
    records = [_whole(stream)] if single else _lines(stream)
    first, batch, read = 1, [], 0
    for record, length in records:
        batch.append(record)
        read += length
        if len(batch) >= lines or read >= size:
            yield Chunk(first, tuple(batch), read)
            first, batch, read = first + len(batch), [], 0
    if batch:
        yield Chunk(first, tuple(batch), read)


def _whole(stream: BinaryIO) -> tuple[bytes | TooLong, int]:
    data = stream.read(MAX_RECORD_BYTES + 1)
    length = len(data)
    if length <= MAX_RECORD_BYTES:
        return data, length
    while piece := stream.read(2**20):
        length += len(piece)
    return TooLong(length), length


def _lines(stream: BinaryIO) -> Iterator[tuple[bytes | TooLong, int]]:
    """(record, bytes read) per line; a line longer than the limit is read through, not kept."""
    while line := stream.readline(MAX_RECORD_BYTES + 1):
        length = len(line)
        if length <= MAX_RECORD_BYTES or line.endswith(b"\n"):
            yield line.rstrip(b"\r\n"), length
            continue
        while not line.endswith(b"\n") and (line := stream.readline(2**20)):
            length += len(line)
        yield TooLong(length - (len(line) - len(line.rstrip(b"\r\n")))), length


_worker_coder: ChunkCoder | None = None
"""The worker process's own ChunkCoder, set by `_start_coder`."""


def _start_coder(spec: CoderSpec, fmt: str) -> None:
    global _worker_coder
    _worker_coder = ChunkCoder(spec.build(), fmt)


def _code_chunk(chunk: Chunk) -> Coded:
    return _worker_coder(chunk)


@attrs.define
class Tally:
    """Counts for the summary line and the exit status."""

    records: int = 0
    rejected: int = 0
    size: int = 0
    started: float = attrs.field(factory=time.monotonic)

    def add(self, coded: Coded) -> None:
        self.records += coded.records
        self.rejected += coded.rejected
        self.size += coded.size

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def summary(self) -> str:
        seconds = self.seconds
        rate = f", {self.records / seconds:,.0f} records/s" if seconds > 0 else ""
        return (f"infuse: {self.records:,} record{'' if self.records == 1 else 's'}: {self.records - self.rejected:,} coded, "
                f"{self.rejected:,} rejected, {seconds:.1f} s{rate}")


@attrs.define
class Progress:
    """A progress line on a terminal, redrawn at most every `every` seconds.

    `total` is the input's size when known (Source.total), for the ETA.
    """

    stream: TextIO
    total: int | None = None
    every: float = 0.25
    _drawn: float = attrs.field(init=False, default=float("-inf"))

    def update(self, tally: Tally) -> None:
        now = time.monotonic()
        if now - self._drawn < self.every:
            return
        self._drawn = now
        seconds = tally.seconds
        rate = tally.records / seconds if seconds > 0 else 0.0
        text = f"{tally.records:,} records, {rate:,.0f}/s"
        if self.total and tally.size and seconds > 0:
            remaining = max(self.total - tally.size, 0) * seconds / tally.size
            text += f", {100 * tally.size / self.total:.0f}%, ETA {_clock(remaining)}"
        self.stream.write(f"\r\x1b[K{text}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def input_size(stream: BinaryIO) -> int | None:
    """The size of a regular file, None for a pipe or terminal."""
    try:
        info = os.fstat(stream.fileno())
    except (OSError, AttributeError, ValueError):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def code_chunks(chunks: Iterator[Chunk], out, coder: ChunkCoder, spec: CoderSpec,
                jobs: int = 1, progress: Progress | None = None, spawn: bool = False) -> Tally:
    """Code every record of `chunks` into `out`, in order; with `jobs` > 1 in worker processes,
    forked from this one or, with `spawn`, started afresh (engine.io.pool): for a process that
    holds much a worker does not need, such as pyarrow (a worker codes no Arrow data, see Coded).
    A script that spawns needs the `if __name__ == "__main__":` guard: a spawned worker imports
    the script's main module.

    `out` takes each chunk's output (Coded.output): a text stream or an engine.io.output.Checked
    (UTF-8 bytes) for the text formats, an engine.io.parquet.ResultWriter for "parquet". Input that fits in one chunk is coded here:
    starting workers would cost more than it saves. `spec` must build the same coder as
    `coder`; the workers use it.
    """
    tally = Tally()
    # A text stream as it is (not an output.Checked) takes the bytes of the text formats too.
    write = functools.partial(output.write_bytes, out) if isinstance(out, io.TextIOBase) else out.write
    head = list(itertools.islice(chunks, 2))
    chunks = itertools.chain(head, chunks)
    if jobs > 1 and len(head) > 1:
        from engine.io.pool import ordered_map  # only here: multiprocessing costs a one-record start-up some ms

        results = ordered_map(_code_chunk, chunks, jobs=jobs, lost=coder.lost,
                              initializer=_start_coder, initargs=(spec, coder.fmt), spawn=spawn)
    else:
        results = (coder(chunk) for chunk in chunks)
    try:
        with contextlib.closing(results):
            for done in results:
                write(done.output)
                tally.add(done)
                if progress:
                    progress.update(tally)
    finally:
        if progress:
            progress.close()
    return tally


@contextlib.contextmanager
def terminate_as_exit() -> Iterator[None]:
    """While in effect, SIGTERM exits through Python (cleanup runs) instead of ending the process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
