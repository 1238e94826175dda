"""Where output goes: standard output, or a file that appears complete or not at all.

A failure to write (a full disk, a file-size limit, an I/O error) is an OutputError, which
the command line reports in one line with its own exit status (3): output cut off mid-way
must never pass for a run that coded everything, or rejected some records. A closed pipe
stays BrokenPipeError: a reader that stops reading (`head`) has what it wanted.

A file named with `-o` is written to a temporary file beside it, named
`.NAME.infuse-HOST-PID-XXXXXXXX.part`, and renamed over NAME once complete. A run killed
outright (SIGKILL, a power cut) cannot remove its temporary file, so each run removes those
of earlier runs for the same NAME whose process is gone; the host name in the name keeps a
run from judging the process of another machine that shares the folder.

Example:
    with atomic_output("coded.jsonl") as file:
        Checked(file, "coded.jsonl").write(text)    # a full disk raises OutputError
"""
from __future__ import annotations

import codecs
import contextlib
import errno
import io
import os
import re
import stat
import sys
from collections.abc import Iterator
from typing import BinaryIO, TextIO

import attrs

from engine.io.render import encodable

STDOUT_NAME = "the output"
"""How messages name standard output: "cannot write the output: No space left on device"."""


class OutputError(Exception):
    """Output that could not be written; the message, for the user, names it and the reason."""


@contextlib.contextmanager
def writing(name: str) -> Iterator[None]:
    """While in effect, a failure to write is OutputError naming `name` (a broken pipe excepted)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputError(f"cannot write {name}: {error.strerror or error}") from None


@attrs.frozen
class Checked:
    """`stream`, whose failures to write are OutputError naming `name`; text is written as
    UTF-8 can carry it (render.encodable), so a lone surrogate from an encounter, echoed in a
    record, a story or a case title, is written as its escape instead of ending the run."""

    stream: TextIO | BinaryIO
    name: str

    def write(self, data: str | bytes) -> None:
        """Write text, or UTF-8 bytes (a batch's output); bytes go to a text stream's buffer
        as they are when it writes UTF-8 without translating line ends, else as text."""
        with writing(self.name):
            if isinstance(data, str):
                self.stream.write(encodable(data))
            else:
                write_bytes(self.stream, data)

    def flush(self) -> None:
        with writing(self.name):
            self.stream.flush()


def write_bytes(stream: TextIO | BinaryIO, data: bytes) -> None:
    """Write UTF-8 `data` to `stream`, text or binary: to a text stream's buffer as it is when
    the stream writes UTF-8 without translating line ends, else decoded, as text."""
    if not isinstance(stream, io.TextIOBase):
        stream.write(data)
    elif (buffer := _utf8_buffer(stream)) is not None:
        stream.flush()  # what was written as text goes first
        buffer.write(data)
    else:
        stream.write(data.decode())


def _utf8_buffer(stream: io.TextIOBase) -> BinaryIO | None:
    """The byte stream under a text stream that writes UTF-8 as it is, or None (a StringIO,
    another encoding, or line ends translated, as on Windows)."""
    buffer = getattr(stream, "buffer", None)
    encoding = getattr(stream, "encoding", None)
    if buffer is None or encoding is None or os.linesep != "\n":
        return None
    try:
        return buffer if codecs.lookup(encoding).name == "utf-8" else None
    except LookupError:
        return None


def stdout() -> Checked:
    """Standard output (as it is now: tests replace it), failures to write checked.

    Raises:
        OutputError: standard output is closed (`infuse code x.jsonl >&-`): Python has no sys.stdout.
    """
    if sys.stdout is None:
        raise OutputError(f"cannot write {STDOUT_NAME}: standard output is closed")
    return Checked(sys.stdout, STDOUT_NAME)


def flush_stdout() -> None:
    """Flush standard output, if open: at exit a failure to write could only be ignored."""
    if sys.stdout is not None:
        stdout().flush()


def complete_writes() -> None:
    """Give standard output a buffer if it has none (python -u, PYTHONUNBUFFERED=1).

    Unbuffered, the rest of a write the system cuts short (at a file-size limit) is dropped
    without an error; a buffered writer writes the rest or raises. Line buffering sends each
    write of whole lines at once, as unbuffered output would.
    """
    stream = sys.stdout
    if stream is not None and isinstance(getattr(stream, "buffer", None), io.RawIOBase):
        raw = io.FileIO(stream.fileno(), "w", closefd=False)  # its own: the old one closes with the old stream
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(raw), encoding=stream.encoding, errors=stream.errors,
                                      line_buffering=True)


def silence_stdout() -> None:
    """Point standard output at the null device, after a failure to write to it.

    What is still buffered would otherwise be written again when Python exits, fail again
    and be reported as an ignored exception with exit status 120.
    """
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):  # not a real file (a test's capture): nothing is flushed at exit
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, descriptor)
    os.close(null)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, binary: bool = False) -> Iterator[TextIO | BinaryIO]:
    """A file, text or `binary`, that appears at `path` complete or not at all.

    Written to a temporary file in the same folder, then renamed over `path`; on any
    exception (Ctrl-C included) the temporary file is removed and `path` is untouched.

    Raises:
        OSError: on entry, before anything is written: `path` is a folder or not a regular
            file, its folder does not exist, or no file can be made there.
        OutputError: the file could not be completed (what was at `path` stays).
    """
    import socket  # with tempfile, some 11 ms to import: only for a file written, not standard output
    import tempfile

    shown, target = os.fspath(path), os.path.abspath(path)
    folder, name = os.path.split(target)
    _check_target(target, folder)
    prefix = f".{name}.infuse-{socket.gethostname()}-"
    _remove_stale(folder, prefix)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=f"{prefix}{os.getpid()}-", suffix=".part")
    out = open(handle, "wb") if binary else open(handle, "w", encoding="utf-8", newline="\n")
    try:
        yield out
        with writing(shown):
            out.flush()
            os.fsync(out.fileno())
            out.close()
            os.chmod(temp, _mode_for(target))
            os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):  # the rest of a write that failed fails again: the file goes anyway
            out.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _check_target(path: str, folder: str) -> None:
    """Refuse, before anything is written, a target where the file could not be put (a folder,
    a missing folder) or should not be (a device or pipe, which the rename would replace)."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"there is no folder {folder}")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "it is a folder; -o names the file to write")
    if not stat.S_ISREG(mode):
        raise OSError(errno.EINVAL, "not a regular file (leave out -o to write to standard output)")


def _remove_stale(folder: str, prefix: str) -> None:
    """Remove the temporary files `prefix`PID-XXXXXXXX.part whose process PID has ended."""
    pattern = re.compile(re.escape(prefix) + r"([0-9]+)-[a-z0-9_]+\.part")
    try:
        names = os.listdir(folder)
    except OSError:  # a folder one may write but not list: nothing to clean, and no harm
        return
    for found in filter(None, map(pattern.fullmatch, names)):
        if not _alive(int(found[1])):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, found[0]))


def _alive(pid: int) -> bool:
    """Whether process `pid` exists (on this host); another user's process counts."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:  # no process has such a number
        return False
    return True


def _mode_for(path: str) -> int:
    """The mode `path` has, or the one a new file gets (mkstemp makes temporary files private)."""
    with contextlib.suppress(FileNotFoundError):
        return stat.S_IMODE(os.stat(path).st_mode)
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
