"""`infuse fmt`: one layout, idempotent, meaning and comments kept, `--check` for CI."""
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.diagnostics import RulesetError
from dsl.formatter import format_text
from dsl.parser import parse
from engine.cli import main
from tests.conftest import RULESET_2026

RULE_FILES = sorted(RULESET_2026.rglob("*.rules"))
IDS = [str(p.relative_to(RULESET_2026)) for p in RULE_FILES]


def statements(text: str):
    return parse(text, "x.rules").statements


def comments(text: str) -> list[str]:
    """Every comment, in order (strings may hold '#', so skip over them)."""
    return [m.group().rstrip() for m in re.finditer(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*', text) if m.group()[0] == "#"]


@pytest.mark.parametrize("path", RULE_FILES, ids=IDS)
def test_every_ruleset_file_keeps_its_meaning_and_comments_and_is_a_fixed_point(path):
    text = path.read_text()
    once = format_text(text, str(path))
    assert statements(once) == statements(text)
    assert comments(once) == comments(text)
    assert format_text(once, str(path)) == once


MESSY = '''\
# Header comment, kept word for word.
ruleset   demo 1.0
effective 2026-01-01..2026-12-31
vocabulary claim:facility ,professional   [cpt]
vocabulary route: iv, im [cpt]
  # a comment about the table
table   service first per administration [cpt]
    "What each administration is."
  id | claim | route|duration => service  | finding
  r1 | facility|iv | > 15 min => push |   # why r1
     # between rows
  r.long-row-id|*|im,subq|16 min..90 min=>injection|missing-dose
  r3|not facility|*|unknown=>-|
initial iv per session, site [cpt]
  order by claim
    facility: push > injection
    professional:   primary>push
  ties: primary, earliest start



# trailing comment
'''

TIDY = '''\
# Header comment, kept word for word.
ruleset demo 1.0
effective 2026-01-01 .. 2026-12-31

vocabulary claim: facility, professional [cpt]
vocabulary route: iv, im                 [cpt]

# a comment about the table
table service first per administration [cpt]
  "What each administration is."
  id            | claim        | route    | duration         => service   | finding
  r1            | facility     | iv       | > 15 min         => push      |               # why r1
  # between rows
  r.long-row-id | *            | im, subq | 16 min .. 90 min => injection | missing-dose
  r3            | not facility | *        | unknown          => -         |

initial iv per session, site [cpt]
  order by claim
    facility:     push > injection
    professional: primary > push
  ties: primary, earliest start

# trailing comment
'''


def test_golden_messy_table():
    assert format_text(MESSY) == TIDY


def test_golden_keeps_meaning():
    assert statements(TIDY) == statements(MESSY)
    assert format_text(TIDY) == TIDY


def test_statements_of_a_kind_keep_their_grouping_and_others_get_one_blank_line():
    text = ('vocabulary a: x [s]\nvocabulary bbb: y   [s]\n\n\n\nvocabulary c: z\nconst x = 1 [a]\n  "doc"\n'
            'const long_name = 2 [a, b]\n  "doc"\nunits u [a]\n  one per 1 h after 0 min, final part when > 30 min\n')
    assert format_text(text) == ('vocabulary a: x   [s]\nvocabulary bbb: y [s]\n\nvocabulary c: z\n\n'
                                 'const x = 1         [a]\n  "doc"\nconst long_name = 2 [a, b]\n  "doc"\n\n'
                                 'units u [a]\n  one per 1 h after 0 min, final part when > 30 min\n')


def test_a_syntax_error_is_a_ruleset_error():
    with pytest.raises(RulesetError):
        format_text("table t first per administration\n  id => x\n")


# Horizontal whitespace outside strings and comments, blank lines that already separate
# statements, and blank lines before indented lines never change the formatted text.
_WHITESPACE = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[ \t]+|(?<=[,:\[|])(?=[^\s,])|\n(?=\n)|\n(?=[ \t])')


def mutate(text: str, data) -> str:
    def replace(match):
        found = match.group()
        if found.startswith(('"', "#")):
            return found
        if found == "\n":
            return "\n" * data.draw(st.integers(1, 3))
        return data.draw(st.text(" \t", min_size=1, max_size=4))
    return _WHITESPACE.sub(replace, text)


@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(RULE_FILES + [None]), data=st.data())
def test_whitespace_mutations_format_to_the_same_text(path, data):
    text = MESSY if path is None else path.read_text()
    mutated = mutate(text, data)
    assert statements(mutated) == statements(text)
    formatted = format_text(mutated)
    assert formatted == format_text(text)
    assert statements(formatted) == statements(text)
    assert comments(formatted) == comments(text)


def test_check_lists_files_that_would_change_then_fmt_fixes_them(tmp_path, capsys):
    messy = tmp_path / "demo.rules"
    messy.write_text(MESSY)
    tidy = tmp_path / "sub" / "tidy.rules"
    tidy.parent.mkdir()
    tidy.write_text(TIDY)
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"would reformat {messy}" in out and "tidy.rules" not in out
    assert messy.read_text() == MESSY
    assert main(["fmt", str(tmp_path)]) == 0
    assert messy.read_text() == TIDY
    assert main(["fmt", "--check", str(messy), str(tidy)]) == 0


def test_fmt_reports_a_file_that_does_not_parse(tmp_path, capsys):
    broken = tmp_path / "broken.rules"
    broken.write_text("ruleset demo\n")
    assert main(["fmt", str(broken)]) == 2
    assert "broken.rules:1" in capsys.readouterr().err
    assert main(["fmt", str(tmp_path / "nothing-here")]) == 2
