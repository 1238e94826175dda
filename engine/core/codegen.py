"""Python source written per declaration or per stage, compiled once and registered in
linecache, so that a traceback or a profile of generated code shows its lines.

Only names and shapes reach the source: a field name is written as a string literal by `repr`
(or read by `getattr` when it is no identifier), and every other value (a pattern, a parser,
a set of words) is passed in by name among the function's globals, so no ruleset text can
become code (../shared/design/style.md: never `eval` rule text).

Example:
    writer = SourceWriter()
    writer.line("def double(x):")
    writer.line("return x * _factor", 1)
    double = writer.compiled("double", "<infuse example>", {"_factor": 2})
"""
from __future__ import annotations

import hashlib
import keyword
import linecache
import textwrap


class SourceWriter:
    """The lines of one generated module, indented by level, and the constants it names."""

    def __init__(self):
        self.lines: list[str] = []
        self.constants: dict = {}

    def line(self, text: str, level: int = 0):
        self.lines.append("    " * level + text)

    def block(self, text: str, level: int = 0):
        """The lines of `text` (a triple-quoted template, its common indent removed) at `level`."""
        for line in textwrap.dedent(text).strip("\n").splitlines():
            self.line(line, level)

    def constant(self, value, prefix: str = "_k") -> str:
        """The global name `value` is passed in by (one name per distinct object)."""
        for name, known in self.constants.items():
            if known is value:
                return name
        name = f"{prefix}{len(self.constants)}"
        self.constants[name] = value
        return name

    def source(self) -> str:
        return "\n".join(self.lines) + "\n"

    def compiled(self, function: str, label: str, constants: dict | None = None):
        """The function named `function` of the source, its globals the constants; the source
        is registered under `<label HASH>` for tracebacks. A source written before (a payer
        variant's unchanged stage, the same declaration) is not compiled again."""
        source = self.source()
        code = _COMPILED.get((label, source))
        if code is None:
            filename = f"{label.removesuffix('>')} {hashlib.sha256(source.encode()).hexdigest()[:12]}>"
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            code = compile(source, filename, "exec")
            if len(_COMPILED) >= _MAX_COMPILED:
                try:
                    _COMPILED.pop(next(iter(_COMPILED)), None)  # the oldest
                except (StopIteration, RuntimeError):  # another thread emptied or changed it meanwhile
                    pass
            _COMPILED[(label, source)] = code
        namespace = {**self.constants, **(constants or {})}
        exec(code, namespace)
        return namespace[function]


def forget_compiled():
    """Compile every source again, as a fresh process does (engine.core.compiled.clear_generated)."""
    _COMPILED.clear()


# (label, source) -> its code object, in the order compiled. Each operation on the dict is
# whole in CPython (engine.core.compiled._GENERATED says why), and a code object is immutable,
# so threads share it; two compiling one source at once store equal code.
_COMPILED: dict = {}
_MAX_COMPILED = 1024


def attribute(owner: str, name: str) -> str:
    """The expression that reads field `name` of the object named `owner`."""
    if name.isidentifier() and not keyword.iskeyword(name):
        return f"{owner}.{name}"
    return f"getattr({owner}, {name!r})"
