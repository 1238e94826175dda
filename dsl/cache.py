"""A content-addressed cache on disk, for work a fresh process would otherwise repeat: the
Lark parser built from the grammar (dsl.parser) and the checked rulesets of a folder
(engine.core.registry). Each entry is a file named by the sha256 of everything it was made
from, so an entry is never updated in place: a changed input is another key.

Where: $INFUSE_CACHE_DIR if set, else $XDG_CACHE_HOME/infuse, else ~/.cache/infuse.
`INFUSE_CACHE_DIR=off` (or an empty value) turns it off.

Safety: an entry is written to a temporary file in the cache folder and renamed over its
name (os.replace), so readers see a whole entry or none, and writers racing on one key each
write a whole, equal entry. An entry holds its key and the sha256 of its payload; one that is
cut short, altered, of another format, written by another user, or fails to unpickle for any
reason is ignored (the caller rebuilds and rewrites it), never trusted. A cache folder that
cannot be made or written is no error: the work is done without a cache.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sys
from pathlib import Path

ENV = "INFUSE_CACHE_DIR"
OFF = ("off", "")
_MAGIC = b"infuse-cache 1\n"
_DIGEST = 32  # bytes of sha256


def directory() -> Path | None:
    """The cache folder to use, or None when the cache is turned off."""
    value = os.environ.get(ENV)
    if value is not None:
        return None if value.strip().lower() in OFF else Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "infuse"


def python_tag() -> bytes:
    """The interpreter an entry was pickled by: its implementation and minor version."""
    return f"{sys.implementation.cache_tag} {sys.version_info[0]}.{sys.version_info[1]}".encode()


def read(folder: Path, name: str, key: str):
    """The object stored under `name` for `key`, or None when there is no sound entry."""
    try:
        with open(folder / name, "rb") as file:
            if hasattr(os, "getuid") and os.fstat(file.fileno()).st_uid != os.getuid():
                return None  # an entry another user planted is not unpickled
            data = file.read()
        if not data.startswith(_MAGIC):
            return None
        head = len(_MAGIC)
        digest, payload = data[head:head + _DIGEST], data[head + _DIGEST:]
        if hashlib.sha256(payload).digest() != digest:
            return None
        stored_key, value = pickle.loads(payload)
        return value if stored_key == key else None
    except Exception:  # noqa: BLE001 -- whatever is wrong with an entry, it is rebuilt
        return None


def write(folder: Path, name: str, key: str, value) -> bool:
    """Store `value` under `name` for `key`; False (and nothing left behind) when the folder
    cannot be written or `value` cannot be pickled."""
    try:
        payload = pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 -- an object that does not pickle is simply not cached
        return False
    import tempfile  # some milliseconds to import: only for writing

    temporary = None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
        with os.fdopen(handle, "wb") as file:
            file.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(temporary, folder / name)
        return True
    except OSError:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass
        return False
