"""Read a ruleset directory: follow includes, apply a payer variant over its base.

A directory holds one base ruleset (`ruleset.rules`, which includes the others
in coding order) and payer variants in `payers/*.rules`, each `extends` the base.
A variant's declarations and stages replace the base's of the same name in place;
`amend table` replaces rows by id or inserts new ones.

Each file is read and parsed once. The checked rulesets keep what they were checked from:
their statements (a variant's merged over its base), each table row its AST row, and the
file texts (CheckedRuleset.statements, CheckedRow.node, CheckedRuleset.texts), so the
analyses, `diff` and the table export never read or parse the folder again.
"""
from __future__ import annotations

import datetime
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from dsl import ast
from dsl.checked import BASE_PAYER, CheckedRuleset
from dsl.confine import inside, outside_message
from dsl.diagnostics import Diagnostic, RulesetError, did_you_mean, where
from dsl.edit_data import MAX_DATA_BYTES, read_limits, read_pairs, read_remembered

if TYPE_CHECKING:
    from dsl.schema import Schema

# dsl.parser (with lark) and dsl.checker are imported where a folder is read and checked, not
# here: a process that takes its rulesets from the cache (engine.core.registry) needs neither.

BASE_FILE = "ruleset.rules"
VARIANT_DIR = "payers"
TESTS_DIR = "tests"  # the folder's own test cases (infuse test), which coding never reads
MAX_FILE_BYTES = 2_000_000
MAX_INCLUDE_DEPTH = 16


class UnknownPayer(LookupError):
    """A payer name with neither a variant nor a route: its policy is unknown, so nothing
    may be coded for it (the base rules could give other modifiers without a word)."""

    def __init__(self, payer: str, known: list[str]):
        hint = did_you_mean(payer, known)
        super().__init__(f"no payer policy named '{payer}' in this ruleset (known: {', '.join(known) or 'none'}; "
                         "a ruleset routes other names with 'route payer ... to ...')" + (f"; {hint}" if hint else ""))
        self.payer = payer


@attrs.frozen
class RulesetFamily:
    """A base ruleset and its payer variants, keyed by payer name."""

    base: CheckedRuleset
    variants: dict

    @property
    def texts(self) -> dict:
        """The text of every file a member was checked from, by the name its spans use."""
        return {name: text for ruleset in (self.base, *self.variants.values()) for name, text in ruleset.texts.items()}

    @property
    def known_payers(self) -> list[str]:
        """Every payer name a record may carry: the variants' and the routed ones."""
        return sorted({*self.variants, *self.base.payer_routes})

    def for_payer(self, payer: str | None) -> CheckedRuleset:
        """The ruleset for a payer: its variant, or the one its route names; the base for
        no payer. Names are compared exactly, case included. Raises UnknownPayer."""
        if not payer:
            return self.base
        target = self.base.payer_routes.get(payer, payer)
        if target == BASE_PAYER:
            return self.base
        if target not in self.variants:
            raise UnknownPayer(payer, self.known_payers)
        return self.variants[target]


@attrs.frozen
class FolderSource:
    """A ruleset folder as read: the base's statements (includes followed), each variant
    file's own statements, the text of every file by its shown path, and read problems."""

    base: list
    variants: dict  # variant file path -> its statements
    texts: dict
    diagnostics: list


def ruleset_folders(path: str | os.PathLike) -> list[Path]:
    """The ruleset folders at `path`: itself when it holds a base ruleset, else its year
    folders, sorted. A year folder that links to outside `path` is refused (RulesetError)."""
    path = Path(path)
    if (path / BASE_FILE).is_file():
        return [path]
    found = sorted(p for p in path.iterdir() if (p / BASE_FILE).is_file()) if path.is_dir() else []
    refused = [Diagnostic("E-file", outside_message(_display(p)), ast.Span(_display(p), 0, 0, 0, 0))
               for p in found if not inside(p, path)]
    if refused:
        raise RulesetError(refused)
    return found


def read_folder(directory: str | os.PathLike, overrides: Mapping[Path, str] | None = None,
                parsed: dict | None = None) -> FolderSource:
    """Read (not check) a ruleset folder the way `load_family` does.

    Every file read, the base and the variants included, must lie inside the folder
    (dsl.confine): a link leaving it is an E-file diagnostic and is not read.
    `overrides` maps resolved file paths to the text to read in their place (an editor's
    unsaved buffers); each is still subject to the folder's confinement. `parsed`, a dict the
    caller keeps, maps (shown path, text) to the parsed module: a file found there with the
    same text is not parsed again, and each file parsed is added (an editor re-reads a
    folder on every edit of one file).
    """
    directory = Path(directory)
    root = directory.resolve()
    overrides = overrides or {}
    texts: dict[str, str] = {}
    diagnostics: list[Diagnostic] = []
    data: dict = {}  # resolved path -> (table, diagnostics): each data file is read once
    base = _read_with_includes(directory / BASE_FILE, texts, diagnostics, (), root=root, overrides=overrides,
                               parsed=parsed)
    base = _with_data(base, root, texts, diagnostics, data)
    variant_dir = directory / VARIANT_DIR
    variant_files = sorted(p for p in variant_dir.glob("*.rules") if p.is_file() or p.is_symlink()) \
        if variant_dir.is_dir() else []
    variants = {path: _with_data(_read_with_includes(path, texts, diagnostics, (), root=root, overrides=overrides,
                                                     parsed=parsed), root, texts, diagnostics, data)
                for path in variant_files}
    return FolderSource(base, variants, texts, diagnostics)


def _with_data(statements: list, root: Path, texts: dict, diagnostics: list, data: dict) -> list:
    """The statements with each data clause of an edit (`pairs from`, `limit from`) holding
    its file as read (dsl.edit_data) and the sha256 of its bytes.

    A data file is named relative to the file that names it and, like an include, must lie
    inside the ruleset folder (a link out of it is refused unread). Its text joins `texts`
    only when it has mistakes, so that they show with their line; a good file of 500,000
    rows is kept as its index alone."""
    out = []
    for node in statements:
        if isinstance(node, ast.Edit) and any(isinstance(c, (ast.PairsFrom, ast.LimitsFrom)) for c in node.clauses):
            node = attrs.evolve(node, clauses=tuple(_data_clause(c, root, texts, diagnostics, data)
                                                    if isinstance(c, (ast.PairsFrom, ast.LimitsFrom)) else c
                                                    for c in node.clauses))
        out.append(node)
    return out


def _data_clause(clause, root: Path, texts: dict, diagnostics: list, data: dict):
    path = Path(clause.span.file).parent / clause.path
    shown = _display(path)
    if not inside(path, root):
        message = outside_message(shown) if path.is_symlink() else f"'{clause.path}' is outside the ruleset folder"
        diagnostics.append(Diagnostic("E-file", message, clause.path_span))
        return clause
    if not path.is_file():
        candidates = [p.name for p in path.parent.glob("*.csv")] if path.parent.is_dir() else []
        diagnostics.append(Diagnostic("E-file", f"no data file '{clause.path}'", clause.path_span,
                                      hint=did_you_mean(path.name, candidates)))
        return clause
    key = (path.resolve(), type(clause))
    if key not in data:
        try:
            if path.stat().st_size > MAX_DATA_BYTES:
                data[key] = (None, [Diagnostic("E-limit", f"data file is larger than {MAX_DATA_BYTES} bytes",
                                               clause.path_span)])
            else:
                raw = path.read_bytes()
                table, found = read_remembered(read_pairs if isinstance(clause, ast.PairsFrom) else read_limits, raw,
                                               shown)
                if found:
                    texts[shown] = raw.decode("utf-8", errors="replace")
                data[key] = (table, found)
        except OSError as error:
            data[key] = (None, [Diagnostic("E-file", f"cannot read the data file ({error.strerror})",
                                           clause.path_span)])
        diagnostics.extend(data[key][1])
    table = data[key][0]
    return clause if table is None else attrs.evolve(clause, data=table, digest="sha256:" + table.sha256)


def load_family(directory: str | os.PathLike, schema: Schema,
                overrides: Mapping[Path, str] | None = None) -> RulesetFamily:
    """Load and check a base ruleset and every variant beside it, reporting all errors.

    `overrides` (resolved path -> text) stands in for files on disk, as in `read_folder`."""
    directory = Path(directory)
    if not (directory / BASE_FILE).is_file():
        raise RulesetError([Diagnostic("E-file", f"no {BASE_FILE} in {directory}", ast.Span(str(directory), 0, 0, 0, 0))])
    return check_folder_source(read_folder(directory, overrides), directory, schema)


def check_folder_source(source: FolderSource, directory: str | os.PathLike, schema: Schema) -> RulesetFamily:
    """Check a folder as `read_folder` read it: the base, then each variant merged over it.
    Raises RulesetError with every diagnostic found."""
    directory = Path(directory)
    texts, diagnostics, base_statements = source.texts, list(source.diagnostics), source.base
    if diagnostics:
        raise RulesetError(diagnostics, texts)
    base = _check(base_statements, schema, texts, diagnostics, directory)
    variants = {}
    for path, statements in source.variants.items():
        merged = apply_variant(base_statements, statements, diagnostics)
        checked = _check(merged, schema, texts, diagnostics, directory)
        if checked is not None and base is not None:
            first = statements[0].span if statements else ast.Span(_display(path), 1, 1, 1, 1)  # an empty file
            if checked.base != base.name:
                header = next((s.span for s in statements if isinstance(s, ast.Extends)), first)
                diagnostics.append(Diagnostic("E-extends", f"variant must extend '{base.name}'", header,
                                              hint=did_you_mean(checked.base or "", [base.name])))
            elif checked.payer is None:
                diagnostics.append(Diagnostic("E-payer", "a variant names its payer with 'payer NAME'", first))
            elif checked.version != base.version:  # a copied year whose payer files kept last year's
                header = next((s.span for s in statements if isinstance(s, ast.RulesetHeader)), first)
                diagnostics.append(Diagnostic("E-version", f"variant version {checked.version} differs from its "
                                              f"base's {base.version}; results would be labelled {checked.version}",
                                              header, hint=f"write 'ruleset {checked.name} {base.version}'"))
            else:
                variants[checked.payer] = checked
    if base is not None:
        diagnostics += _route_problems(base_statements, source.variants, variants)
    if diagnostics:
        raise RulesetError(diagnostics, texts)
    return RulesetFamily(base, variants)


def period_problems(families: list[RulesetFamily]) -> list[Diagnostic]:
    """Year folders side by side must cover time without overlap and without a gap: an
    overlap leaves a date of service two rulesets, a gap none (each such encounter rejected)."""
    found = []
    ordered = sorted(families, key=lambda family: family.base.effective)
    for earlier, later in zip(ordered, ordered[1:]):
        end, start = earlier.base.effective[1], later.base.effective[0]
        span = next((s.span for s in later.base.statements if isinstance(s, ast.Effective)), ast.NOWHERE)
        day_after = (datetime.date.fromisoformat(end) + datetime.timedelta(days=1)).isoformat()
        if start <= end:
            found.append(Diagnostic("E-effective", f"effective from {start}, while {earlier.base.name} "
                                    f"{earlier.base.version} is effective until {end}: one date of service "
                                    "must pick one ruleset", span, hint=f"start on {day_after}"))
        elif start != day_after:
            found.append(Diagnostic("E-effective", f"effective from {start}, but {earlier.base.name} "
                                    f"{earlier.base.version} ends on {end}: no ruleset covers {day_after} .. "
                                    f"{(datetime.date.fromisoformat(start) - datetime.timedelta(days=1)).isoformat()}",
                                    span, hint=f"start on {day_after}"))
    return found


def _route_problems(base_statements: list, variant_files: dict, variants: dict) -> list[Diagnostic]:
    """Payer routes live in the base (payers are resolved before any variant applies) and
    name a variant or `base`; no variant takes the name `base`, and no route sends a payer
    that has a variant of its own elsewhere."""
    found = []
    for node in (node for statements in variant_files.values() for node in statements):
        if isinstance(node, ast.PayerRoute):
            found.append(Diagnostic("E-route", "payer routes belong in the base ruleset, which picks the variant",
                                    node.span))
        elif isinstance(node, ast.PayerDecl) and node.payer == BASE_PAYER:
            found.append(Diagnostic("E-payer", f"'{BASE_PAYER}' names the base ruleset; choose another payer name",
                                    node.span))
    for node in base_statements:
        if not isinstance(node, ast.PayerRoute):
            continue
        if node.target != BASE_PAYER and node.target not in variants:
            found.append(Diagnostic("E-name", f"no payer variant '{node.target}' to route to", node.span,
                                    hint=did_you_mean(node.target, [*variants, BASE_PAYER])
                                    or f"expected one of: {', '.join([*sorted(variants), BASE_PAYER])}"))
        found += [Diagnostic("E-route", f"payer '{name.text}' has a variant of its own; it cannot be routed",
                             name.span) for name in node.names if name.text in variants]
    return found


def _digest(statements, texts: dict, directory: Path) -> str:
    """sha256 of the texts the ruleset is made of, named relative to its folder, so the
    same ruleset has the same digest wherever it lies and whatever the working folder."""
    relative = {name: os.path.relpath(os.path.abspath(name), directory).replace(os.sep, "/")
                for name in {s.span.file for s in statements if s.span.file in texts}}
    digest = hashlib.sha256()
    for name in sorted(relative, key=relative.get):
        digest.update(relative[name].encode() + b"\0" + texts[name].encode() + b"\0")
    files = {clause.data.path: clause.data.sha256 for s in statements if isinstance(s, ast.Edit)
             for clause in s.clauses if getattr(clause, "data", None) is not None}
    for name in sorted(files, key=lambda n: os.path.relpath(os.path.abspath(n), directory)):
        shown = os.path.relpath(os.path.abspath(name), directory).replace(os.sep, "/")
        digest.update(b"data\0" + shown.encode() + b"\0" + files[name].encode() + b"\0")
    return "sha256:" + digest.hexdigest()


def _check(statements, schema, texts, diagnostics, directory: Path) -> CheckedRuleset | None:
    """The checked ruleset, or None with its diagnostics added to `diagnostics`.

    A variant repeats every mistake of the base it merges; such a mistake is added once,
    as the base's check (which runs first) worded it, even where the variant's wording
    differs in its hint (Diagnostic.identity); only notes the variant adds (a use of a
    faulty base constant in the variant's own rows) are added to it."""
    from dsl.checker import check

    try:
        return check(statements, schema, _digest(statements, texts, directory), texts)
    except RulesetError as error:
        seen = {d.identity: i for i, d in enumerate(diagnostics)}
        for found in error.diagnostics:
            if found.identity not in seen:
                seen[found.identity] = len(diagnostics)
                diagnostics.append(found)
                continue
            kept = diagnostics[seen[found.identity]]
            extra = tuple(note for note in found.notes if note not in kept.notes)
            if extra:
                diagnostics[seen[found.identity]] = attrs.evolve(kept, notes=kept.notes + extra)
        return None


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _read_with_includes(path: Path, texts: dict, diagnostics: list, stack: tuple,
                        root: Path, included: dict | None = None, overrides: Mapping[Path, str] | None = None,
                        parsed: dict | None = None) -> list:
    """The statements of a file with each include replaced by the included file's.

    `stack` holds the files including this one; `included` maps every file read so far
    from the same top file to the include that read it, so each is read once and a
    file including another many times over cannot multiply the work. Only files under
    `root` (the ruleset folder, resolved) are read: a ruleset must not reach
    /proc/self/environ or /dev/zero, nor show their lines in a diagnostic.
    """
    included = {} if included is None else included
    shown = _display(path)
    if not inside(path, root):
        diagnostics.append(Diagnostic("E-file", outside_message(shown), ast.Span(shown, 1, 1, 1, 1)))
        return []
    if not path.is_file():  # a FIFO or device would block or never end
        diagnostics.append(Diagnostic("E-file", "not a regular file", ast.Span(shown, 1, 1, 1, 1)))
        return []
    overridden = (overrides or {}).get(path.resolve())
    try:
        if overridden is not None:
            if len(overridden) > MAX_FILE_BYTES:
                diagnostics.append(Diagnostic("E-limit", f"file is larger than {MAX_FILE_BYTES} bytes",
                                              ast.Span(shown, 1, 1, 1, 1)))
                return []
            text = overridden
        elif path.stat().st_size > MAX_FILE_BYTES:
            diagnostics.append(Diagnostic("E-limit", f"file is larger than {MAX_FILE_BYTES} bytes",
                                          ast.Span(shown, 1, 1, 1, 1)))
            return []
        else:
            text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        diagnostics.append(Diagnostic("E-file", f"file is not UTF-8 ({error.reason})", ast.Span(shown, 1, 1, 1, 1)))
        return []
    except OSError as error:
        diagnostics.append(Diagnostic("E-file", f"cannot read the file ({error.strerror})", ast.Span(shown, 1, 1, 1, 1)))
        return []
    texts[shown] = text
    module = parsed.get((shown, text)) if parsed is not None else None
    if module is None:
        from dsl.parser import parse

        try:
            module = parse(text, shown)
        except RulesetError as error:
            diagnostics.extend(error.diagnostics)
            return []
        if parsed is not None:
            parsed[(shown, text)] = module
    statements = []
    for node in module.statements:
        if not isinstance(node, ast.Include):
            statements.append(node)
            continue
        if not inside(path.parent / node.path, root):
            diagnostics.append(Diagnostic("E-include", f"'{node.path}' is outside the ruleset folder", node.span))
            continue
        target = (path.parent / node.path).resolve()
        if target in stack or target == path.resolve():
            diagnostics.append(Diagnostic("E-include", f"'{node.path}' includes itself", node.span))
        elif target in included:
            first = included[target]
            diagnostics.append(Diagnostic("E-include", f"'{node.path}' is already included", node.span,
                                          hint=f"first included at {first.file}:{first.line}"))
        elif len(stack) >= MAX_INCLUDE_DEPTH:
            diagnostics.append(Diagnostic("E-limit", f"includes nest more than {MAX_INCLUDE_DEPTH} deep",
                                          node.span))
        elif not target.is_file():
            candidates = [p.name for p in path.parent.glob("*.rules")]
            diagnostics.append(Diagnostic("E-include", f"no file '{node.path}' to include", node.span,
                                          hint=did_you_mean(node.path, candidates)))
        else:
            included[target] = node.span
            statements.extend(_read_with_includes(target, texts, diagnostics, (*stack, path.resolve()), root, included,
                                                  overrides, parsed))
    return statements


_HEADERS = (ast.RulesetHeader, ast.Extends, ast.PayerDecl, ast.Effective)


def _key(node):
    if isinstance(node, _HEADERS):
        return (type(node).__name__,)
    name = getattr(node, "name", None) or getattr(node, "code", None) or getattr(node, "id", None)
    return (type(node).__name__, name)


def apply_variant(base: list, variant: list, diagnostics: list) -> list:
    """The base statements with the variant's replacing those of the same kind and name."""
    merged = list(base)
    positions = {_key(node): i for i, node in enumerate(merged)}
    own: dict = {}  # key -> span of the variant's statement that has it, so a second is an error
    for node in variant:
        if isinstance(node, (ast.InputDecl, ast.Form)):  # one input per year: the schema, the cases, the probes
            diagnostics.append(Diagnostic("E-input", "a payer variant cannot declare input; the base ruleset "
                                                     "declares what every record carries", node.span,
                                          hint="declare the field in the base's input, optional"))
            continue
        key = _key(node) if not isinstance(node, ast.Amend) else None
        if key is not None and key in own:  # the later one would silently win
            what = f"'{key[1]}'" if len(key) > 1 else "the header line"
            diagnostics.append(Diagnostic("E-duplicate", f"{what} is given twice in this variant", node.span,
                                          hint=f"first given at {where(own[key], node.span)}"))
            continue
        if key is not None:
            own[key] = node.span
        if isinstance(node, ast.Amend):
            index = positions.get(("Table", node.table))
            if index is None:
                tables = [k[1] for k in positions if k[0] == "Table"]
                diagnostics.append(Diagnostic("E-name", f"unknown table '{node.table}' to amend", node.span,
                                              hint=did_you_mean(node.table, tables)))
                continue
            merged[index] = _amend(merged[index], node, diagnostics)
            continue
        if key in positions:
            merged[positions[key]] = node
        else:
            positions[key] = len(merged)
            merged.append(node)
    return merged


def _amend(table: ast.Table, amend: ast.Amend, diagnostics: list) -> ast.Table:
    """Replace rows by id, insert new ones before `amend.before` (or at the end).

    A replacing row changes only the columns its amend lists; the base row's other cells
    stay. A new row takes `*` (inputs) and blank (outputs) in the columns it does not list.
    """
    inputs = table.inputs + tuple(c for c in amend.inputs[1:] if c.name not in {x.name for x in table.inputs})
    outputs = table.outputs + tuple(c for c in amend.outputs if c.name not in {x.name for x in table.outputs})

    def widen(row: ast.Row, row_inputs, row_outputs, under: ast.Row | None = None) -> ast.Row:
        by_input = {c.name: cell for c, cell in zip(row_inputs[1:], row.inputs)}
        by_output = {c.name: cell for c, cell in zip(row_outputs, row.outputs)}
        kept_inputs = under.inputs if under else (None,) * (len(inputs) - 1)
        kept_outputs = under.outputs if under else (None,) * len(outputs)
        return ast.Row(row.id,
                       tuple(by_input.get(c.name, kept) for c, kept in zip(inputs[1:], kept_inputs)),
                       tuple(by_output.get(c.name, kept) for c, kept in zip(outputs, kept_outputs)),
                       span=row.span)

    rows = [widen(r, table.inputs, table.outputs) for r in table.rows]
    ids = [r.id for r in rows]
    if amend.before is not None and amend.before not in ids:
        diagnostics.append(Diagnostic("E-name", f"table '{table.name}' has no row '{amend.before}'", amend.span,
                                      hint=did_you_mean(amend.before, ids)))
    insert_at = ids.index(amend.before) if amend.before in ids else len(rows)
    amended: dict = {}
    for row in amend.rows:
        if row.id in amended:  # the later row would silently win
            diagnostics.append(Diagnostic("E-duplicate", f"row '{row.id}' is amended twice", row.span,
                                          hint=f"first amended at {where(amended[row.id], row.span)}"))
            continue
        amended[row.id] = row.span
        if row.id in ids:
            index = ids.index(row.id)
            rows[index] = widen(row, amend.inputs, amend.outputs, under=rows[index])
        else:
            rows.insert(insert_at, widen(row, amend.inputs, amend.outputs))
            ids.insert(insert_at, row.id)
            insert_at += 1
    return attrs.evolve(table, inputs=inputs, outputs=outputs, rows=tuple(rows),
                        refs=table.refs + tuple(r for r in amend.refs if r not in table.refs))
