"""Work for a batch's worker processes that fails in a worker where pyarrow was imported
(tests/engine/io/test_parquet.py). Neither this module nor what it imports may import pyarrow."""
from __future__ import annotations

import sys

from engine.io import batch


def code_chunk_without_pyarrow(chunk: batch.Chunk) -> batch.Coded:
    """The worker's own `batch._code_chunk(chunk)`, then a failure if pyarrow is loaded by
    now: at the worker's start, by the chunk handed over, or by coding it."""
    coded = batch._code_chunk(chunk)
    loaded = sorted(name for name in sys.modules if name.partition(".")[0] == "pyarrow")
    if loaded:
        raise AssertionError(f"a batch worker imported {', '.join(loaded[:3])}")
    return coded
