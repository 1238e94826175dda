"""Parse rule-language text into AST nodes (dsl.ast), with syntax errors as diagnostics.

The Lark parse tree is turned into AST nodes in a separate pass so that every node
keeps its position (a transformer given to Lark itself would get none).
"""
from __future__ import annotations

import functools
import hashlib
import io
from importlib import resources

import lark
from lark import Token, Transformer, v_args

from dsl import ast, cache
from dsl.diagnostics import Diagnostic, RulesetError, did_you_mean

_UNIT_SECONDS = {"min": 60, "h": 3600}
_EVENT_OPTIONS = ("required", "at_most", "timed", "alike")

# Limits on one file, so that a mistaken or hostile file is rejected with a located
# E-limit diagnostic instead of exhausting time or memory (the loader limits its size).
MAX_LINE_CHARS = 1000
MAX_STATEMENTS = 2000
MAX_ROWS = 5000
MAX_COLUMNS = 64
MAX_NUMBER = 1_000_000  # every whole number: a duration's amount, a bound, a limit

_TOKEN_WORDS = {
    "NAME": "a name", "INT": "a whole number", "NUMBER": "a version number", "DATE": "a date (YYYY-MM-DD)",
    "STRING": 'a quoted text', "_NL": "end of line", "$END": "end of file", "ARROW": "'=>'",
}


# Threads loading rulesets at once may each build a parser before one is cached (the cache
# holds no lock while it calls): each is complete. A parse keeps its state in objects of its
# own; what lark builds at a first parse (each lexer's scanner) it stores whole, as long as
# it is given no lexer callbacks (which it would add to a stored table afterwards).
#
# Building the parser from the grammar takes about 200 ms; it is built once per grammar, lark
# version and Python and kept in the cache (dsl.cache), from which it loads in about 10 ms.
@functools.cache
def _lark() -> lark.Lark:
    grammar = resources.files("dsl").joinpath("grammar.lark").read_text(encoding="utf-8")
    options = {"parser": "lalr", "propagate_positions": True, "maybe_placeholders": True}
    folder = cache.directory()
    key = hashlib.sha256(b"\0".join([grammar.encode(), lark.__version__.encode(), cache.python_tag(),
                                      repr(sorted(options.items())).encode()])).hexdigest()
    name = f"lark-{key}.pickle"
    saved = cache.read(folder, name, key) if folder is not None else None
    if isinstance(saved, bytes):
        try:
            return lark.Lark.load(io.BytesIO(saved))
        except Exception:  # noqa: BLE001 -- an entry that does not load is rebuilt
            pass
    parser = lark.Lark(grammar, **options)
    if folder is not None:
        out = io.BytesIO()
        parser.save(out)
        cache.write(folder, name, key, out.getvalue())
    return parser


def parse(text: str, path: str) -> ast.Module:
    """Parse one file; raise RulesetError with located diagnostics on a syntax error,
    an unknown duration unit or a limit passed."""
    long_lines = _long_lines(text, path)
    if long_lines:
        raise RulesetError(long_lines, {path: text})
    try:
        tree = _lark().parse(text if text.endswith("\n") else text + "\n")
    except lark.exceptions.UnexpectedInput as error:
        raise RulesetError([_syntax_diagnostic(error, path)], {path: text}) from None
    transformer = _ToAst(path)
    statements = transformer.transform(tree)
    problems = transformer.problems + _size_limits(statements)
    if problems:
        raise RulesetError(problems, {path: text})
    return ast.Module(path=path, text=text, statements=tuple(statements))


def _long_lines(text: str, path: str) -> list[Diagnostic]:
    """Lines past MAX_LINE_CHARS, checked before parsing so no token can grow without bound."""
    return [Diagnostic("E-limit", f"line is longer than {MAX_LINE_CHARS} characters",
                       ast.Span(path, number, MAX_LINE_CHARS + 1, number, MAX_LINE_CHARS + 2))
            for number, line in enumerate(text.split("\n"), 1)
            if len(line.removesuffix("\r")) > MAX_LINE_CHARS]


def _size_limits(statements: list) -> list[Diagnostic]:
    """Too many statements in the file, rows or columns in a table: each at the first one past the limit."""
    found = []
    if len(statements) > MAX_STATEMENTS:
        found.append(Diagnostic("E-limit", f"more than {MAX_STATEMENTS} statements in one file",
                                statements[MAX_STATEMENTS].span, hint="split the file and include the parts"))
    for node in statements:
        if not isinstance(node, (ast.Table, ast.Amend)):
            continue
        name = node.name if isinstance(node, ast.Table) else node.table
        if len(node.rows) > MAX_ROWS:
            found.append(Diagnostic("E-limit", f"table '{name}' has more than {MAX_ROWS} rows",
                                    node.rows[MAX_ROWS].span))
        columns = (*node.inputs, *node.outputs)
        if len(columns) > MAX_COLUMNS:
            found.append(Diagnostic("E-limit", f"table '{name}' has more than {MAX_COLUMNS} columns",
                                    columns[MAX_COLUMNS].span))
    return found


def _describe(terminal: str) -> str:
    if terminal in _TOKEN_WORDS:
        return _TOKEN_WORDS[terminal]
    try:
        pattern = _lark().get_terminal(terminal).pattern
    except KeyError:
        return terminal.lower()
    return f"'{pattern.value}'" if pattern.type == "str" else terminal.lower()


def _syntax_diagnostic(error: lark.exceptions.UnexpectedInput, path: str) -> Diagnostic:
    line, column = max(error.line, 1), max(error.column, 1)
    width = 1
    if isinstance(error, lark.exceptions.UnexpectedToken):
        token = error.token
        expected = sorted({_describe(t) for t in error.accepts or error.expected})
        seen = "end of file" if token.type == "$END" else ("end of line" if token.type == "_NL" else f"'{token}'")
        message = f"unexpected {seen}; expected {_join(expected)}"
        if token.type not in ("$END", "_NL"):
            width = max(len(str(token)), 1)
    elif isinstance(error, lark.exceptions.UnexpectedCharacters):
        message = f"unexpected character {error.char!r}"
    else:
        message = "unexpected end of file"
    return Diagnostic("E-syntax", message, ast.Span(path, line, column, line, column + width))


def _join(words: list[str]) -> str:
    if len(words) > 8:
        words = words[:8] + ["..."]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _unquote(token: Token) -> str:
    return token[1:-1].replace('\\"', '"').replace("\\\\", "\\")


@v_args(meta=True)
class _ToAst(Transformer):
    """Parse tree to AST; each method builds one node and gives it its span."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.problems: list[Diagnostic] = []  # reported together once the whole file is read

    def _span(self, meta) -> ast.Span:
        if getattr(meta, "empty", True):
            return ast.NOWHERE
        return ast.Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _token_span(self, token: Token) -> ast.Span:
        return ast.Span(self.path, token.line, token.column, token.end_line, token.end_column)

    def start(self, meta, children):
        return [c for c in children if c is not None]

    # header and declarations
    def ruleset_stmt(self, meta, c):
        return ast.RulesetHeader(str(c[0]), c[1], span=self._span(meta))

    def version(self, meta, c):
        return str(c[0])

    def extends_stmt(self, meta, c):
        return ast.Extends(str(c[0]), span=self._span(meta))

    def payer_stmt(self, meta, c):
        return ast.PayerDecl(str(c[0]), span=self._span(meta))

    def route_stmt(self, meta, c):
        *names, target, refs = c
        return ast.PayerRoute(tuple(names), str(target), refs or (), span=self._span(meta))

    def payer_name(self, meta, c):
        token = c[0]
        text = _unquote(token) if token.type == "STRING" else str(token)
        return ast.Name(text, span=self._token_span(token))

    def effective_stmt(self, meta, c):
        return ast.Effective(str(c[0]), str(c[1]), span=self._span(meta))

    def include_stmt(self, meta, c):
        return ast.Include(_unquote(c[0]), span=self._token_span(c[0]))

    def source_stmt(self, meta, c):
        return ast.Source(str(c[0]), _unquote(c[1]), span=self._token_span(c[0]))

    def vocabulary_stmt(self, meta, c):
        return ast.Vocabulary(str(c[0]), c[1], c[2] or (), span=self._token_span(c[0]))

    def set_stmt(self, meta, c):
        return ast.ValueSet(str(c[0]), str(c[1]), c[2], c[3] or (), span=self._token_span(c[0]))

    def const_stmt(self, meta, c):
        return ast.Const(str(c[0]), c[1], c[2] or (), c[3], span=self._token_span(c[0]))

    def code_stmt(self, meta, c):
        return ast.CodeDecl(c[0].text, str(c[1]), _unquote(c[2]), c[3] or (), span=c[0].span)

    def modifier_stmt(self, meta, c):
        return ast.ModifierDecl(c[0].text, _unquote(c[1]), c[2] or (), span=c[0].span)

    def finding_stmt(self, meta, c):
        return ast.FindingDecl(str(c[0]), str(c[1]), c[2] or (), c[3], span=self._token_span(c[0]))

    # the declared input
    def form_stmt(self, meta, c):
        return ast.Form(str(c[0]), _unquote(c[1]), _unquote(c[2]), c[3] or (), span=self._token_span(c[0]))

    def encounter_input(self, meta, c):
        refs, doc, *lines = c
        return self._input(None, None, (), refs, doc, lines, meta)

    def events_input(self, meta, c):
        kind, key, *rest = c
        options = tuple(x for x in rest if isinstance(x, tuple) and x and isinstance(x[0], str) and x[0] in _EVENT_OPTIONS)
        refs, doc, *lines = rest[len(options):]
        return self._input(str(kind), str(key), options, refs, doc, lines, meta)

    def _input(self, kind, key, options, refs, doc, lines, meta):
        fields = tuple(x for x in lines if isinstance(x, ast.FieldDecl))
        derived = tuple(x for x in lines if isinstance(x, ast.DerivedDecl))
        undeclared = tuple(x for x in lines if isinstance(x, ast.UndeclaredDecl))
        return ast.InputDecl(kind, key, options, refs or (), doc, fields, derived, undeclared, span=self._span(meta))

    def required_events(self, meta, c):
        return ("required",)

    def at_most(self, meta, c):
        return ("at_most", self._whole(c[0]))

    def timed(self, meta, c):
        return ("timed", str(c[0]), str(c[1]))

    def alike(self, meta, c):
        return ("alike", str(c[0]))

    def field_line(self, meta, c):
        name, (type_name, refers_to), *options, meaning = c
        first_in = next((o[1] for o in options if isinstance(o, tuple)), None)
        return ast.FieldDecl(str(name), type_name, refers_to, tuple(o for o in options if isinstance(o, str)), first_in,
                             _unquote(meaning) if meaning else None, span=self._token_span(name))

    def derive_line(self, meta, c):
        name, derivation, meaning = c
        return ast.DerivedDecl(str(name), derivation, _unquote(meaning) if meaning else None,
                               span=self._token_span(name))

    def undeclared_line(self, meta, c):
        return ast.UndeclaredDecl(str(c[0]), span=self._token_span(c[0]))

    def plain_type(self, meta, c):
        return (str(c[0]), None)

    def id_type(self, meta, c):
        return ("id", str(c[0]))

    def required(self, meta, c):
        return "required"

    def blank_allowed(self, meta, c):
        return "blank"

    def folded(self, meta, c):
        return "folded"

    def unique(self, meta, c):
        return "unique"

    def picks_payer(self, meta, c):
        return "picks payer"

    def else_first(self, meta, c):
        return ("first_in", str(c[0]))

    def time_between(self, meta, c):
        return ast.Derivation("time_between", (str(c[0]), str(c[1])), span=self._span(meta))

    def days_between(self, meta, c):
        return ast.Derivation("days_between", (str(c[0]), str(c[1])), span=self._span(meta))

    def time_since(self, meta, c):
        return ast.Derivation("time_since", (), c[0] or (), c[1] or (), span=self._span(meta))

    def count_previous(self, meta, c):
        return ast.Derivation("count_previous", (), c[0] or (), c[1] or (), span=self._span(meta))

    def overlaps_previous(self, meta, c):
        return ast.Derivation("overlaps_previous", (), c[0] or (), c[1] or (), span=self._span(meta))

    def previous_differs(self, meta, c):
        return ast.Derivation("previous_differs", (str(c[2]),), c[0] or (), c[1] or (), span=self._span(meta))

    def count_lines(self, meta, c):
        return ast.Derivation("count_lines", (str(c[0]),), (), c[1] or (), span=self._span(meta))

    def where(self, meta, c):
        return tuple(c)

    def group(self, meta, c):
        return c[0]

    def doc(self, meta, c):
        return _unquote(c[0])

    def refs(self, meta, c):
        return tuple(ast.Ref(str(t), span=self._token_span(t)) for t in c)

    def names(self, meta, c):
        return tuple(str(t) for t in c)

    def symbols(self, meta, c):
        return tuple(c)

    def symbol(self, meta, c):
        return ast.Name(str(c[0]), span=self._token_span(c[0]))

    # tables
    def table_stmt(self, meta, c):
        name, policy, scope, refs, doc, (inputs, outputs), *rows = c
        return ast.Table(str(name), str(policy), str(scope), refs or (), doc, inputs, outputs,
                         tuple(rows), span=self._token_span(name))

    def amend_stmt(self, meta, c):
        name, before, refs, doc, (inputs, outputs), *rows = c
        return ast.Amend(str(name), before, refs or (), doc, inputs, outputs, tuple(rows),
                         span=self._token_span(name))

    def before(self, meta, c):
        return str(c[0])

    def header(self, meta, c):
        return self._split_at_arrow(c, lambda t: ast.Column(str(t), span=self._token_span(t)))

    def row(self, meta, c):
        row_id, *rest = c
        inputs, outputs = self._split_at_arrow(rest, lambda cell: cell)
        return ast.Row(str(row_id), inputs, outputs, span=self._token_span(row_id))

    def _split_at_arrow(self, children, build):
        """Split header names or row cells at the `=>` token; empty cells are None."""
        arrow = next(i for i, child in enumerate(children) if isinstance(child, Token) and child.type == "ARROW")
        return (tuple(build(x) for x in children[:arrow]),
                tuple(build(x) for x in children[arrow + 1:]))

    # cells
    def any(self, meta, c):
        return ast.AnyCell(span=self._span(meta))

    def blank(self, meta, c):
        return ast.BlankCell(span=self._span(meta))

    def missing(self, meta, c):
        return ast.MissingCell(span=self._span(meta))

    def negated(self, meta, c):
        return ast.Negated(c[0], span=self._span(meta))

    def comparison(self, meta, c):
        return ast.Comparison(str(c[0]), c[1], span=self._span(meta))

    def between(self, meta, c):
        return ast.Between(c[0], c[1], span=self._span(meta))

    def alternatives(self, meta, c):
        return ast.Alternatives(tuple(c), span=self._span(meta))

    def name(self, meta, c):
        return ast.Name(str(c[0]), span=self._token_span(c[0]))

    def number(self, meta, c):
        return ast.Number(self._whole(c[0]), str(c[0]), span=self._token_span(c[0]))

    def duration(self, meta, c):
        amount, unit = c
        if str(unit) not in _UNIT_SECONDS:
            hint = did_you_mean(str(unit), _UNIT_SECONDS) or "write minutes as 'min' and hours as 'h'"
            self.problems.append(Diagnostic("E-unit", f"unknown duration unit '{unit}'; expected min or h",
                                            self._token_span(unit), hint=hint))
        return ast.Duration(self._whole(amount) * _UNIT_SECONDS.get(str(unit), 0), f"{amount} {unit}",
                            span=self._span(meta))

    def _whole(self, token: Token) -> int:
        """The value of an INT token; past MAX_NUMBER an E-limit, read as 0 (never used:
        the file is rejected), so no later stage sees a number too large for a float."""
        if len(token.lstrip("0")) > len(str(MAX_NUMBER)) or int(token) > MAX_NUMBER:
            self.problems.append(Diagnostic("E-limit", f"number is larger than {MAX_NUMBER}",
                                            self._token_span(token)))
            return 0
        return int(token)

    # merge, initial, units, edits
    def condition(self, meta, c):
        return ast.Condition(str(c[0]), c[1], span=self._span(meta))

    def merge_stmt(self, meta, c):
        name, refs, doc, combine, keys, minus = c
        minus_condition, minus_keys = minus if minus else (None, ())
        return ast.Merge(str(name), refs or (), doc, combine, keys, minus_condition, minus_keys,
                         span=self._token_span(name))

    def minus(self, meta, c):
        return c[0], c[1]

    def initial_stmt(self, meta, c):
        name, keys, refs, doc, (selector, rankings), ties, concurrent = c
        return ast.Initial(str(name), keys, refs or (), doc, selector, rankings, ties,
                           concurrent or (), span=self._token_span(name))

    def order_by(self, meta, c):
        return str(c[0]), tuple(c[1:])

    def order_flat(self, meta, c):
        order, primary_of = c[0]
        return None, (ast.Ranking(None, order, primary_of, span=self._span(meta)),)

    def order_line(self, meta, c):
        order, primary_of = c[1]
        return ast.Ranking(str(c[0]), order, primary_of, span=self._span(meta))

    def ranking(self, meta, c):
        items = [item for item in c if not isinstance(item, Token)]
        for name, values in items:
            if values and name.text != "primary":
                self.problems.append(Diagnostic("E-rank", f"only 'primary' takes a list of values, not '{name.text}'",
                                                name.span))
        order = tuple(name for name, _ in items)
        primary_of = next((values for name, values in items if values), ())
        return order, primary_of

    def rank_item(self, meta, c):
        name, values = c
        span = self._token_span(name)
        return ast.Name(str(name), span=span), tuple(ast.Name(v, span=span) for v in values or ())

    def ties(self, meta, c):
        return tuple(c)

    def tie(self, meta, c):
        return " ".join(str(t) for t in c if t is not None)

    def concurrent(self, meta, c):
        return tuple(ast.Name(t, span=self._span(meta)) for t in c[0])

    def units_stmt(self, meta, c):
        name, refs, doc, period, after, operator, part = c
        return ast.Units(str(name), refs or (), doc, period, after, part, operator.type == "GE",
                         span=self._token_span(name))

    def edit_stmt(self, meta, c):
        name, refs, doc, *clauses, finding = c
        return ast.Edit(str(name), refs or (), doc, tuple(clauses), str(finding),
                        finding_span=self._token_span(finding), span=self._token_span(name))

    def require(self, meta, c):
        return ast.Require(c[0], c[1], span=self._span(meta))

    def limit(self, meta, c):
        return ast.Limit(c[0], self._whole(c[1]), str(c[2]), span=self._span(meta))

    def pair(self, meta, c):
        return ast.Pair(c[0], c[1], str(c[2]), tuple(c[3:]), span=self._span(meta))

    def pairs_from(self, meta, c):
        return ast.PairsFrom(_unquote(c[0]), str(c[1]), tuple(c[3:]), c[2] or (), path_span=self._token_span(c[0]),
                             span=self._span(meta))

    def limit_from(self, meta, c):
        return ast.LimitsFrom(_unquote(c[0]), str(c[1]), c[2] or (), path_span=self._token_span(c[0]),
                              span=self._span(meta))

    def distinction(self, meta, c):
        attribute, modifier, missing = c
        return ast.Distinction(str(attribute), modifier, None if missing is None else str(missing),
                               missing_span=self._token_span(missing) if missing is not None else self._span(meta),
                               span=self._span(meta))
