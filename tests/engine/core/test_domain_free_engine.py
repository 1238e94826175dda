"""The engine and the language know nothing of drug administration: every code, modifier, place
of service and minute threshold lives in the ruleset. This test reads the source of dsl/ and
engine/ (Python and Lark) and fails on any of them.

Python is read through its syntax tree, so that what is judged is a literal in its context:
  - a string that is code data: nothing but procedure codes (CPT, five digits; HCPCS, a
    letter and four digits), modifiers ('25', '59', 'XE', ...) and places of service (two
    digits), alone or in a list like "96365-XE|59". A code inside prose (a docstring, or a
    message showing the syntax "e.g. 96366 x2") is an example and cannot steer the engine:
    acting on a code takes the code as data, which is caught;
  - a number that is a CPT code of the medicine section (90000-99999), where these codes live;
  - a minute threshold (15, 16, 30, 31, 60, 90 minutes, or the same in seconds) compared with
    something named for time, passed as minutes=/seconds=/hours=, or bound to a name (or a
    parameter) named for time. A conversion factor is not a threshold: {"min": 60} and
    SECONDS_PER_MINUTE = 60 pass, and so does len(text) > 60.
In the grammar, every quoted literal is judged as code data, and no code may appear outside
comments.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

CODE = re.compile(r"[0-9]{5}|[A-Z][0-9]{4}")
CODE_IN_TEXT = re.compile(r"(?<![\w.:-])(?:[0-9]{5}|[A-Z][0-9]{4})(?![\w:-])")
MODIFIERS = {"25", "59", "76", "77", "91", "XE", "XS", "XU", "XP", "JW", "JZ"}
PLACE_OF_SERVICE = re.compile(r"[0-9]{2}")
SEPARATORS = re.compile(r"[\s,|;/+-]+")
MEDICINE_SECTION = range(90000, 100000)
MINUTES = {15, 16, 30, 31, 60, 90}
THRESHOLDS = MINUTES | {m * 60 for m in MINUTES}
CONVERSIONS = {60, 3600}
TIME_WORDS = {"min", "mins", "minute", "minutes", "hour", "hours", "h", "s", "sec", "secs", "second", "seconds",
              "limit", "threshold", "gap", "duration", "push", "hydration", "time", "start", "stop"}
TIME_KEYWORDS = {"minutes", "seconds", "hours"}
LARK_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def is_code_data(text: str) -> bool:
    """True for a string made only of codes, modifiers and places of service."""
    tokens = [t for t in SEPARATORS.split(text.strip()) if t]
    return bool(tokens) and all(CODE.fullmatch(t) or t in MODIFIERS or PLACE_OF_SERVICE.fullmatch(t) for t in tokens)


def _named_for_time(node: ast.AST) -> str | None:
    """The first identifier under `node` named for time (not a conversion factor like X_PER_Y)."""
    for name in (n.id if isinstance(n, ast.Name) else n.attr if isinstance(n, ast.Attribute) else n
                 for n in ast.walk(node) if isinstance(n, ast.Name | ast.Attribute)):
        words = {w.lower() for w in re.split(r"_+|(?<=[a-z])(?=[A-Z])", name) if w}
        if words & TIME_WORDS and "per" not in words:
            return name
    return None


def sources() -> list[Path]:
    return sorted(p for folder in ("dsl", "engine") for pattern in ("*.py", "*.lark")
                  for p in (ROOT / folder).rglob(pattern))


def _number(node) -> float | None:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    return None


def _time_contexts(tree: ast.AST):
    """(expression, why) for every place a minute threshold would be written in."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            if name := _named_for_time(node):
                yield from ((part, f"compared with {name}") for part in [node.left, *node.comparators])
        elif isinstance(node, ast.keyword) and node.arg in TIME_KEYWORDS:
            yield node.value, f"passed as {node.arg}="
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            name = next(filter(None, map(_named_for_time, targets)), None)
            if node.value is not None and name:
                yield node.value, f"bound to {name}"
        elif isinstance(node, ast.arguments):
            params = [*node.posonlyargs, *node.args][-len(node.defaults):] if node.defaults else []
            for param, default in [*zip(params, node.defaults), *zip(node.kwonlyargs, node.kw_defaults)]:
                if default is not None and _named_for_time(ast.Name(param.arg)):
                    yield default, f"default of {param.arg}"


def _thresholds_in(expression: ast.AST):
    """Threshold numbers in an expression, through arithmetic but not into calls.

    60 and 3600 multiplying or dividing something are unit conversions (minutes // 60), so
    only the other side is looked at; 30 * 60 is still 30 minutes, and 60 * 60 is an hour.
    """
    stack = [expression]
    while stack:
        node = stack.pop()
        if _number(node) in THRESHOLDS:
            yield node
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Div | ast.FloorDiv | ast.Mod):
            sides = [side for side in (node.left, node.right) if _number(side) not in CONVERSIONS]
            if not sides and isinstance(node.op, ast.Mult):
                yield node
            stack += sides
        elif isinstance(node, ast.BinOp):
            stack += [node.left, node.right]
        elif isinstance(node, ast.UnaryOp):
            stack.append(node.operand)
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            stack += node.elts


def python_findings(text: str, name: str) -> list[str]:
    """Every domain literal in Python source, as 'file:line: what'."""
    tree = ast.parse(text, name)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and is_code_data(node.value):
            found.append(f"{name}:{node.lineno}: code, modifier or place of service {node.value!r}")
        elif (value := _number(node)) is not None and value in MEDICINE_SECTION:
            found.append(f"{name}:{node.lineno}: procedure code {value!r} as a number")
    for expression, why in _time_contexts(tree):
        found += [f"{name}:{n.lineno}: minute threshold {ast.unparse(n)} {why}" for n in _thresholds_in(expression)]
    return sorted(set(found))


def lark_findings(text: str, name: str) -> list[str]:
    """Codes, modifiers and places of service written as literals of the grammar."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("//", 1)[0]
        found += [f"{name}:{number}: procedure code {m.group()!r}" for m in CODE_IN_TEXT.finditer(code)]
        found += [f"{name}:{number}: code, modifier or place of service {literal!r}"
                  for literal in LARK_LITERAL.findall(code) if is_code_data(literal)]
    return found


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_domain_literal_in_the_engine(path):
    name = str(path.relative_to(ROOT))
    text = path.read_text(encoding="utf-8")
    found = lark_findings(text, name) if path.suffix == ".lark" else python_findings(text, name)
    assert found == [], "these belong in the ruleset:\n" + "\n".join(found)


def test_the_sources_are_all_read():
    names = {str(p.relative_to(ROOT)) for p in sources()}
    assert {"dsl/grammar.lark", "dsl/checker.py", "engine/core/pipeline.py", "engine/cli/code.py"} <= names


PLANTED = '''
ADDON = "96366"
DRUG = "J1100"
if line.code == "96374": pass
LINE = "96365-XE|59"
MODIFIER = "XE"
if modifier in ("59", "XS"): pass
OFFICE = "11"
KIND = 96372
if minutes > 15: pass
if event.duration_s <= 30 * 60: pass
if gap > 1800: pass
window = datetime.timedelta(minutes=90)
push_limit = 15
def split(span, limit_min=31): pass
if elapsed_s > 60 * 60: pass
'''

CLEAN = '''
\"\"\"Example: `16 min .. 90 min` and 96374 in a docstring; 25:00 is no time; 2026-02-30 no date.\"\"\"
_UNIT_SECONDS = {"min": 60, "h": 3600}
SECONDS_PER_MINUTE = 60
MEMO_LIMIT = 65536
EFFECTIVE = ("0001-01-01", "9999-12-31")
ROW = ("s1", "E-type", "a9", "v2026.1", "")
HINT = f"cannot read {item!r}; write a line as CODE[-MODIFIER...][ xUNITS], e.g. 96366 x2 or 96365-XE|59"
if len(shown) > 60: pass
administrations_seen = 30
minutes = value // 60
if minutes % 60 == 0 and duration_s % 3600: pass
'''


def test_the_detector_finds_what_is_planted():
    found = python_findings(PLANTED, "planted.py")
    lines = {int(f.split(":")[1]) for f in found}
    assert lines == set(range(2, 17)), "\n".join(found)


def test_the_detector_passes_what_is_not_domain():
    assert python_findings(CLEAN, "clean.py") == []


def test_the_detector_reads_grammar_literals():
    grammar = 'modifier: "XS" | "59"\ncode: /[0-9]{5}/ | "96374" | /J1100/  // "96360" in a comment is fine\nname: NAME\n'
    assert sorted(lark_findings(grammar, "g.lark")) == [
        "g.lark:1: code, modifier or place of service '59'",
        "g.lark:1: code, modifier or place of service 'XS'",
        "g.lark:2: code, modifier or place of service '96374'",
        "g.lark:2: procedure code '96374'",
        "g.lark:2: procedure code 'J1100'",
    ]
