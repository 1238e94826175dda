"""What a batch input yields: records in chunks, each record as read (JSON text, or a value
a Parquet row already holds), or a stand-in for one that cannot be handed over.

The JSONL reader (engine.io.batch) and the Parquet reader (engine.io.parquet) both yield these,
and the batch codes them alike, so neither reader needs the other.
"""
from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator

import attrs

MAX_RECORD_BYTES = 8 * 2**20
"""A longer record is rejected unread: no encounter comes near it, and memory stays bounded."""
CHUNK_LINES = 2000
CHUNK_BYTES = 4 * 2**20

@attrs.frozen
class TooLong:
    """A record longer than MAX_RECORD_BYTES, kept as its length only."""

    size: int


@attrs.frozen
class Unreadable:
    """A record the input holds but cannot hand over (a Parquet row with a value Python cannot
    hold), kept as the reason."""

    reason: str


class InputError(Exception):
    """An input that cannot be opened or breaks off mid-way; the message is for the user."""


@attrs.frozen
class Chunk:
    """Consecutive records of the input; `first` is the number of the first (counting from 1).

    A record is JSON text (bytes), TooLong, Unreadable, or an already decoded value (a
    Parquet row); `records` is a tuple of them, or anything with a length that yields them
    when iterated (so a Parquet batch is held as Arrow data until it is coded or handed to a
    worker; it must then pickle as the tuple: a worker reads no Arrow data).
    """

    first: int
    records: Collection
    size: int  # bytes read from the input (rows for Parquet), for progress


@attrs.frozen
class Source:
    """An open input: its chunks, its size in the unit of Chunk.size when known (for the ETA),
    and the file to close when done (`with source:`)."""

    chunks: Iterator[Chunk]
    total: int | None
    file: contextlib.AbstractContextManager

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc_info) -> None:
        self.file.__exit__(*exc_info)
