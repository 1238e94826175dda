"""dsl.checker: what a checked ruleset holds, variant amends, and the diagnostics as an analyst reads them.

Golden diagnostics: tests/golden/diagnostics/valid/ is a minimal valid ruleset folder;
every other folder there is a copy of it with one mistake (a few hold several, on
purpose), and `<case>.expected` beside it is the exact text `infuse check` prints for it
(file:line:col, message, source line, caret, hint), paths relative to the golden folder.
Any change of that text fails. To re-record after a deliberate change, run

    INFUSE_REGENERATE=1 .venv/bin/pytest tests/dsl/test_dsl_checker.py -k golden

which rewrites the .expected files and skips the comparisons; read `git diff
tests/golden/diagnostics` before keeping them.
"""
import difflib
import os
from pathlib import Path

import pytest

from dsl.analysis import analyse_family
from dsl.checked import ANY, CheckedEdit, CheckedLimit, CheckedMerge, CheckedPair, CheckedRequire, FieldType, Predicate
from dsl.checker import check
from dsl.diagnostics import RulesetError, render_all
from dsl.loader import UnknownPayer, load_family
from dsl.parser import parse
from engine.core.schema import SCHEMA
from tests.conftest import ROOT, with_input

GOLDEN = ROOT / "tests" / "golden" / "diagnostics"
BASELINE = "valid"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir() and p.name != BASELINE)
# Cases that make more than one mistake; every other case makes exactly one.
MISTAKES = {"several-errors": 4, "syntax-errors-in-two-files": 2, "unitless-constant": 2}

HEADER = """\
ruleset t 1
effective 2026-01-01 .. 2026-12-31
source cpt "CPT"
source cms "CMS"
vocabulary claim: facility, professional              [cpt]
vocabulary category: therapeutic, hydration           [cpt]
vocabulary route: iv, im, subq                        [cpt]
vocabulary method: push, infusion                     [cpt]
vocabulary service: infusion, push, hydration, none   [cpt]
set facility_pos of pos: 19, 22                       [cms]
set needles of route: im, subq                        [cpt]
const push_limit = 15 min                             [cpt]
const part_hour = 30 min                              [cpt]
const separate = XE                                   [cpt]
const few = 2                                         [cpt]
code 96360 initial "Hydration" [cpt]
code 96361 addon "Hydration, each hour" [cpt]
code 96365 initial "Infusion" [cpt]
code 96372 standalone "Injection" [cpt]
code 96374 initial "Push" [cpt]
modifier XE "Separate encounter" [cpt]
modifier 25 "Separate E/M" [cpt]
finding late warning [cpt, cms]
  "Late."
units hours [cpt]
  one per 1 h after 1 h, final part when > part_hour
"""
HEADER_LINES = HEADER.count("\n")


def checked(body: str):
    text = with_input(HEADER + body)
    return check(list(parse(text, "t.rules").statements), SCHEMA, "sha256:test", {"t.rules": text})


def stage(body: str, name: str):
    return next(s for s in checked(body).stages if s.name == name)


def problems(body: str) -> list[tuple]:
    """(code, line in `body`, message) of every error the checker reports."""
    with pytest.raises(RulesetError) as caught:
        checked(body)
    return [(d.code, d.span.line - HEADER_LINES, d.message) for d in caught.value.diagnostics if d.severity == "error"]


# ----- predicates -------------------------------------------------------------

CELLS = """\
table service first per administration [cpt]
  id | claim        | pos          | route        | duration         | hormonal | dose    => service | finding
  a  | *            | 19           | iv, im       | > 15 min         | yes      | missing => push    | late
  b  | not facility | facility_pos | needles      | <= push_limit    | no       | *       => infusion |
  c  | facility     | not 19, 22   | not needles  | 16 min .. 90 min | *        | unknown => -       |
  d  |              | *            | iv           | < 1 h            | *        | *       =>         |
  e  | *            | *            | *            | >= 2 h           | *        | *       => none    |
  f  | *            | *            | *            | 15 min, 30 min   | *        | *       => none    |
"""


def test_each_cell_kind_becomes_its_predicate():
    table = stage(CELLS, "service")
    assert table.inputs == ("claim", "pos", "route", "duration", "hormonal", "dose")
    predicates = [row.predicates for row in table.rows]
    assert predicates[0] == (ANY, Predicate("in", frozenset({"19"})), Predicate("in", frozenset({"iv", "im"})),
                             Predicate("range", low=900, low_inclusive=False), Predicate("in", frozenset({True})),
                             Predicate("missing"))
    assert predicates[1] == (Predicate("not_in", frozenset({"facility"})), Predicate("in", frozenset({"19", "22"})),
                             Predicate("in", frozenset({"im", "subq"})), Predicate("range", high=900),
                             Predicate("in", frozenset({False})), ANY)
    assert predicates[2] == (Predicate("in", frozenset({"facility"})), Predicate("not_in", frozenset({"19", "22"})),
                             Predicate("not_in", frozenset({"im", "subq"})), Predicate("range", low=960, high=5400),
                             ANY, Predicate("missing"))
    assert predicates[3][0] == ANY  # an empty input cell is any value
    assert predicates[3][3] == Predicate("range", high=3600, high_inclusive=False)
    assert predicates[4][3] == Predicate("range", low=7200)
    assert predicates[5][3] == Predicate("in", frozenset({900, 1800}))


def test_predicates_accept_what_the_cells_say():
    first, second, third, *_ = stage(CELLS, "service").rows
    duration = first.predicates[3]
    assert not duration.matches(900) and duration.matches(901) and not duration.matches(None)
    assert third.predicates[3].matches(960) and third.predicates[3].matches(5400)
    assert not third.predicates[3].matches(5401)
    assert second.predicates[0].matches("professional") and not second.predicates[0].matches(None)
    assert first.predicates[5].matches(None) and not first.predicates[5].matches("4 mg")


def test_column_types_come_from_the_schema_and_the_vocabularies():
    table = stage(CELLS, "service")
    pos = FieldType("text", pattern="[0-9]{2}", form="two digits")  # the fixture's form two_digits
    assert table.input_types == (FieldType("enum", ("facility", "professional")), pos,
                                 FieldType("enum", ("iv", "im", "subq")), FieldType("duration"), FieldType("bool"),
                                 FieldType("text"))


def test_outputs_are_resolved_values_and_blank_is_none():
    table = stage(CELLS, "service")
    assert [row.outputs for row in table.rows] == [
        ("push", ("late",)), ("infusion", None), (None, None), (None, None), ("none", None), ("none", None)]


def test_numbers_compare_with_plain_numbers_and_number_constants():
    table = stage("table em first per em [cpt]\n  id | administration_lines | separately_identifiable => report | modifier\n"
                  "  a | 0 | * => yes |\n  b | > few | yes => yes | 25\n  c | 1 .. few | * => no | separate\n", "em")
    assert [row.predicates[0] for row in table.rows] == [
        Predicate("in", frozenset({0})), Predicate("range", low=2, low_inclusive=False), Predicate("range", low=1, high=2)]
    assert [row.outputs for row in table.rows] == [(True, None), (True, "25"), (False, "XE")]


def test_constants_and_units_are_resolved():
    ruleset = checked("")
    assert ruleset.consts == {"push_limit": 900, "part_hour": 1800, "separate": "XE", "few": 2}
    units = ruleset.units["hours"]
    assert (units.period, units.after, units.part, units.refs) == (3600, 3600, 1800, ("cpt",))


def test_the_ruleset_carries_its_declarations():
    ruleset = checked("")
    assert (ruleset.name, ruleset.version, ruleset.effective, ruleset.digest) == (
        "t", "1", ("2026-01-01", "2026-12-31"), "sha256:test")
    assert ruleset.sources == {"cpt": "CPT", "cms": "CMS"}
    assert ruleset.vocabularies["route"] == ("iv", "im", "subq")
    assert ruleset.codes["96361"] == ("addon", "Hydration, each hour")
    assert ruleset.modifiers == {"XE": "Separate encounter", "25": "Separate E/M"}
    finding = ruleset.findings["late"]
    assert (finding.severity, finding.message, finding.refs) == ("warning", "Late.", ("cpt", "cms"))


# ----- stages in order --------------------------------------------------------

def test_an_attribute_written_by_a_table_is_readable_after_it_not_before():
    reads = "table coding first per administration [cpt]\n  id | service => code\n  p | push => 96374\n"
    writes = "table service first per administration [cpt]\n  id | route => service\n  p | iv => push\n"
    assert stage(writes + reads, "coding").input_types == (FieldType("enum", ("infusion", "push", "hydration", "none")),)
    assert problems(reads + writes) == [("E-name", 2, "unknown column 'service'")]


def test_role_and_distinct_are_readable_after_an_initial_stage():
    body = ("table service first per administration [cpt]\n  id | route => service\n  p | iv => push\n"
            "initial access per session, site [cpt]\n  order: hydration > push\n  ties: earliest start\n"
            "table modifiers collect per line [cpt]\n  id | role | distinct => modifier\n  m | initial | site => separate\n")
    ruleset = checked(body)
    service, initial, modifiers = ruleset.stages
    assert (initial.keys, initial.selector, initial.ranked_field, initial.rankings) == (
        ("session", "site"), None, "service", {None: ("hydration", "push")})
    assert modifiers.input_types[1] == FieldType("enum", ("none", "session", "site"))
    assert modifiers.rows[0].outputs == ("XE",)


def test_merge_expands_sets_and_reads_written_attributes():
    body = ("table service first per administration [cpt]\n  id | route => service\n  p | iv => hydration\n"
            "merge hydration [cpt]\n  combine service = hydration per session, site\n"
            "  minus overlap with route = needles per session\n")
    merge = stage(body, "hydration")
    assert merge == CheckedMerge("hydration", ("cpt",), "service", frozenset({"hydration"}), ("session", "site"),
                                 "route", frozenset({"im", "subq"}), ("session",))


def test_edits_resolve_codes_and_the_modifier_constant():
    edit = stage("edit e [cpt]\n  require 96361 with 96360, 96365\n  limit 96372 to 1 per encounter\n"
                 "  pair 96365 with 96372 per session\n  distinct by site: separate\n  finding late\n", "e")
    assert edit == CheckedEdit("e", ("cpt",), (
        CheckedRequire(frozenset({"96361"}), frozenset({"96360", "96365"})),
        CheckedLimit("96372", 1, "encounter"),
        CheckedPair(frozenset({"96365"}), frozenset({"96372"}), "session", (("site", "XE"),))), "late")


def test_a_distinction_missing_finding_and_a_pairs_where_are_checked():
    edit = stage('edit e [cpt]\n  pair 96365 with 96372 per encounter\n'
                 "  distinct by site: separate, when missing finding late\n  finding late\n", "e")
    assert edit.clauses[0].missing == (("site", "late"),)
    assert problems('edit e [cpt]\n  pairs from "p.csv" per date where claim = hospital\n'
                    "  distinct by site: separate, when missing finding tardy\n  finding late\n") == [
        ("E-value", 2, "'hospital' is not a value of 'claim'"),
        ("E-name", 3, "unknown finding 'tardy'")]


# ----- errors the goldens do not show -----------------------------------------

def test_a_set_of_another_field_and_a_value_outside_the_vocabulary():
    body = ("table t first per administration [cpt]\n  id | route | claim => service\n"
            "  a | facility_pos | hospital => push\n")
    assert problems(body) == [("E-type", 3, "set 'facility_pos' holds values of 'pos', not of 'route'"),
                              ("E-value", 3, "'hospital' is not a value of 'claim'")]


def test_a_cell_or_set_member_that_can_never_match_its_column():
    """A text column with a form (place of service: two digits) rejects `2`, which no
    encounter can hold; leading zeros are kept, so `02` is fine (issue 8, item 2)."""
    body = ("set home of pos: 02, 2 [cms]\nset odd of route: iv, vein [cpt]\nset lost of colour: red [cpt]\n"
            "table t first per administration [cpt]\n  id | pos => service\n  a | 9, 09 => push\n")
    assert problems(body) == [("E-value", 1, "'2' can never match column 'pos', whose values are two digits"),
                              ("E-value", 2, "'vein' is not a value of 'route'"),
                              ("E-name", 3, "unknown attribute 'colour'"),
                              ("E-value", 6, "'9' can never match column 'pos', whose values are two digits")]
    table = stage("table t first per administration [cpt]\n  id | pos => service\n  a | 02, 10 => push\n", "t")
    assert table.rows[0].predicates[0] == Predicate("in", frozenset({"02", "10"}))


def test_a_range_running_backwards_and_a_duration_in_a_number_column():
    body = ("table t first per administration [cpt]\n  id | duration => service\n  a | 90 min .. 16 min => push\n"
            "table u first per em [cpt]\n  id | administration_lines => report\n  a | > push_limit => yes\n")
    assert problems(body) == [("E-range", 3, "the range runs backwards"),
                              ("E-type", 6, "column 'administration_lines' compares numbers; 'push_limit' is not one")]


def test_a_unique_table_shows_a_witness_on_every_column():
    body = ("table t unique per administration [cpt]\n  id | claim | route | hormonal => service\n"
            "  a | * | iv, im | * => push\n  b | not facility | im | yes => push\n  c | facility | subq | * => push\n")
    assert problems(body) == [
        ("E-overlap", 4, "rows 'a' and 'b' of unique table 't' both match claim=professional, route=im, hormonal=yes")]


# ----- variants ---------------------------------------------------------------

BASE = HEADER + """\
table service first per administration [cpt]
  id       | route  | method   => service
  infusion | iv     | infusion => infusion
  push     | iv     | *        => push
  other    | *      | *        => none
table coding first per administration [cpt]
  id       | service  => code  | modifier
  infusion | infusion => 96365 |
  push     | push     => 96374 |
"""


def family(tmp_path: Path, variant: str, base_extra: str = "", payer: str = "acme"):
    (tmp_path / "payers").mkdir()
    (tmp_path / "ruleset.rules").write_text(with_input(BASE + base_extra))
    (tmp_path / "payers" / f"{payer}.rules").write_text(f"ruleset t-{payer} 1\nextends t\npayer {payer}\n" + variant)
    return load_family(tmp_path, SCHEMA)


def family_errors(tmp_path: Path, variant: str = "", base_extra: str = "", payer: str = "acme") -> list[tuple]:
    with pytest.raises(RulesetError) as caught:
        family(tmp_path, variant, base_extra, payer)
    return [(d.code, d.message, d.hint) for d in caught.value.diagnostics if d.severity == "error"]


def rows(ruleset, name: str) -> list[tuple]:
    table = next(s for s in ruleset.stages if s.name == name)
    return [(row.id, row.predicates, row.outputs) for row in table.rows]


def test_an_amend_replaces_rows_by_id_and_inserts_new_ones_before_a_row(tmp_path):
    loaded = family(tmp_path, "amend table service before other [cpt]\n  id | route | method => service\n"
                              "  push | iv | push => push\n  im | im | * => push\n  subq | subq | * => push\n")
    iv, im, subq = (Predicate("in", frozenset({v})) for v in ("iv", "im", "subq"))
    push = Predicate("in", frozenset({"push"}))
    assert rows(loaded.variants["acme"], "service") == [
        ("infusion", (iv, Predicate("in", frozenset({"infusion"}))), ("infusion",)),
        ("push", (iv, push), ("push",)),
        ("im", (im, ANY), ("push",)),
        ("subq", (subq, ANY), ("push",)),
        ("other", (ANY, ANY), ("none",))]
    assert [r[0] for r in rows(loaded.base, "service")] == ["infusion", "push", "other"]
    replaced = next(s for s in loaded.variants["acme"].stages if s.name == "service").rows[1]
    assert replaced.span.file.endswith("acme.rules") and replaced.span.line == 6


def test_an_amend_without_before_appends_and_may_add_columns(tmp_path):
    loaded = family(tmp_path, "amend table coding [cpt]\n  id | service | claim => code | modifier\n"
                              "  push.office | push | professional => 96374 | separate\n")
    coding = next(s for s in loaded.variants["acme"].stages if s.name == "coding")
    assert (coding.inputs, coding.outputs) == (("service", "claim"), ("code", "modifier"))
    assert [(row.id, row.predicates[1], row.outputs) for row in coding.rows] == [
        ("infusion", ANY, ("96365", None)), ("push", ANY, ("96374", None)),
        ("push.office", Predicate("in", frozenset({"professional"})), ("96374", "XE"))]


def test_a_variant_replaces_a_constant_everywhere_it_is_used(tmp_path):
    loaded = family(tmp_path, 'modifier 59 "Distinct" [cpt]\nconst separate = 59 [cpt]\n'
                              "amend table coding [cpt]\n  id | service => code | modifier\n  push | push => 96374 | separate\n")
    assert loaded.base.consts["separate"] == "XE"
    assert loaded.variants["acme"].consts["separate"] == 59
    assert rows(loaded.variants["acme"], "coding")[1][2] == ("96374", "59")
    assert "59" not in loaded.base.modifiers


# ----- payer routes (issue 8, item 3) -----------------------------------------

def test_routed_payers_take_a_variant_or_the_base_and_other_names_are_unknown(tmp_path):
    loaded = family(tmp_path, "", 'route payer "Acme Health", 60054 to acme [cms]\nroute payer medicaid to base [cms]\n')
    assert loaded.for_payer("Acme Health") is loaded.variants["acme"] is loaded.for_payer("60054")
    assert loaded.for_payer("medicaid") is loaded.base is loaded.for_payer(None)
    assert loaded.known_payers == ["60054", "Acme Health", "acme", "medicaid"]
    with pytest.raises(UnknownPayer) as caught:
        loaded.for_payer("ACME")  # names are compared exactly, case included
    assert "no payer policy named 'ACME'" in str(caught.value) and "did you mean 'acme'?" in str(caught.value)


@pytest.mark.parametrize("base_extra,variant,payer,expected", [
    ("route payer x to acm [cms]\n", "", "acme",
     ("E-name", "no payer variant 'acm' to route to", "did you mean 'acme'?")),
    ("route payer acme to base [cms]\n", "", "acme",
     ("E-route", "payer 'acme' has a variant of its own; it cannot be routed", None)),
    ("route payer x to base [cms]\nroute payer y, x to acme [cms]\n", "", "acme",
     ("E-duplicate", "payer 'x' is routed twice", f"first routed at line {BASE.count(chr(10)) + 1}")),
    ("", "route payer x to base [cms]\n", "acme",
     ("E-route", "payer routes belong in the base ruleset, which picks the variant", None)),
    ("", "", "base", ("E-payer", "'base' names the base ruleset; choose another payer name", None)),
    ("route payer x to base\n", "", "acme", ("E-cite", "'route payer ... to base' cites no source; add [source-id]", None)),
])
def test_a_route_that_cannot_hold(tmp_path, monkeypatch, base_extra, variant, payer, expected):
    monkeypatch.chdir(tmp_path)
    assert expected in family_errors(tmp_path, variant, base_extra, payer)


def test_an_amend_before_a_row_that_is_not_there(tmp_path):
    with pytest.raises(RulesetError) as caught:
        family(tmp_path, "amend table coding before pushh [cpt]\n  id | service => code\n  x | push => 96374\n")
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.message, diagnostic.hint, diagnostic.severity) == (
        "E-name", "table 'coding' has no row 'pushh'", "did you mean 'push'?", "error")


# ----- golden diagnostics -----------------------------------------------------

def test_the_golden_baseline_loads(monkeypatch):
    monkeypatch.chdir(GOLDEN)
    loaded = load_family(BASELINE, SCHEMA)
    assert list(loaded.variants) == ["acme"]


def test_every_expected_file_has_its_case():
    assert sorted(p.stem for p in GOLDEN.glob("*.expected")) == CASES


def _edits(case: str) -> int:
    """How many separate places the case's files differ from the baseline's."""
    names = {p.relative_to(GOLDEN / BASELINE) for p in (GOLDEN / BASELINE).rglob("*.rules")}
    names |= {p.relative_to(GOLDEN / case) for p in (GOLDEN / case).rglob("*.rules")}
    count = 0
    for name in names:
        before, after = (GOLDEN / BASELINE / name, GOLDEN / case / name)
        matcher = difflib.SequenceMatcher(a=before.read_text().splitlines() if before.exists() else [],
                                          b=after.read_text().splitlines() if after.exists() else [], autojunk=False)
        count += sum(tag != "equal" for tag, *_ in matcher.get_opcodes())
    return count


@pytest.mark.parametrize("case", CASES)
def test_each_golden_case_is_the_baseline_with_its_mistakes(case):
    assert _edits(case) == MISTAKES.get(case, 1)


@pytest.mark.parametrize("case", CASES)
def test_golden_diagnostics(case, monkeypatch):
    monkeypatch.chdir(GOLDEN)  # the loader shows paths relative to the working folder
    with pytest.raises(RulesetError) as caught:
        load_family(case, SCHEMA)
    rendered = render_all(caught.value.diagnostics, caught.value.sources) + "\n"
    expected = GOLDEN / f"{case}.expected"
    if os.environ.get("INFUSE_REGENERATE") == "1":
        expected.write_text(rendered, encoding="utf-8")
        pytest.skip(f"re-recorded {expected.name}; review the diff")
    assert expected.is_file(), f"no {expected.name}: record it with INFUSE_REGENERATE=1 and review it"
    assert rendered == expected.read_text(encoding="utf-8")


# ----- diagnostics lead with the cause ----------------------------------------

def test_a_constant_without_a_unit_is_reported_once_at_its_definition_with_each_use_a_note():
    with pytest.raises(RulesetError) as caught:
        checked("const short = 5 [cpt]\n"
                "units quarters [cpt]\n  one per 1 h after 1 h, final part when > short\n"
                "table service first per administration [cpt]\n"
                "  id   | route | duration  => service\n"
                "  long | iv    | > short   => infusion\n"
                "  rest | iv    | <= short  => push\n")
    [found] = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert (found.code, found.span.line - HEADER_LINES, found.message, found.hint) == (
        "E-type", 1, "constant 'short' has no unit, but it is used as a duration", "write '5 min' or '5 h'")
    assert [(n.span.line - HEADER_LINES, n.message) for n in found.notes] == [
        (3, "used here as the final part"),
        (6, "used here as a bound of column 'duration'"), (7, "used here as a bound of column 'duration'")]
    assert found.as_dict()["notes"][0]["line"] == HEADER_LINES + 3


def test_a_constant_that_names_a_modifier_is_not_a_duration():
    defined = next(i for i, line in enumerate(HEADER.splitlines(), 1) if line.startswith("const separate"))
    assert problems("table service first per administration [cpt]\n"
                    "  id | duration    => service\n  a  | > separate  => push\n") == [
        ("E-type", defined - HEADER_LINES, "constant 'separate' is not a duration, but it is used as one")]


def test_a_base_mistake_a_variant_inherits_is_reported_once_as_the_base_words_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # the variant's extra code changes the 'did you mean' of the same mistake; it stays one error
    errors = family_errors(tmp_path, 'code 96375 standalone "Other" [cpt]\n'
                           "amend table coding [cpt]\n  id | service => code\n  push | push => 96374\n",
                           "table extra first per administration [cpt]\n  id | service => code\n  a | push => 96373\n")
    assert errors == [("E-name", "unknown code '96373'", "did you mean '96374'?")]


def test_a_base_constant_without_a_unit_is_one_error_in_the_base_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = BASE.replace("const part_hour = 30 min ", "const part_hour = 30     ")
    (tmp_path / "payers").mkdir()
    (tmp_path / "ruleset.rules").write_text(with_input(base))
    (tmp_path / "payers" / "acme.rules").write_text(
        "ruleset t-acme 1\nextends t\npayer acme\n"
        "amend table service [cpt]\n  id | route | duration => service\n  push | iv | <= part_hour => push\n")
    with pytest.raises(RulesetError) as caught:
        load_family(tmp_path, SCHEMA)
    [found] = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert (found.span.file, found.message) == ("ruleset.rules", "constant 'part_hour' has no unit, but it is used as a duration")
    # the base's use (its units rule), then the variant's own row
    assert [(n.span.file, n.span.line) for n in found.notes] == [("ruleset.rules", 26), ("payers/acme.rules", 6)]


def test_a_hint_pointing_into_another_file_names_the_file_and_its_variant(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    errors = family_errors(tmp_path, "amend table pick before b [cpt]\n  id | route => service\n  x | iv, im => push\n",
                           "table pick unique per administration [cpt]\n  id | route => service\n"
                           "  a | subq => push\n  b | iv => infusion\n")
    assert errors == [("E-overlap", "rows 'x' and 'b' of unique table 'pick' both match route=iv",
                       "row 'x' is at payers/acme.rules:6 (variant acme)")]


def test_the_shadowing_report_names_the_row_that_shadows_and_where_it_is(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    loaded = family(tmp_path, "amend table service before infusion [cpt]\n  id | route => service\n"
                    "  all-iv | iv => none\n")
    found = [d for d in analyse_family(loaded).diagnostics if d.code == "W-unreachable"]
    shadowed = next(d for d in found if d.message.startswith("payer 'acme': row 'infusion'"))
    assert shadowed.message == ("payer 'acme': row 'infusion' of table 'service' is never reached: "
                                "row 'all-iv' matches every input it matches")
    assert (shadowed.span.file, shadowed.hint) == ("ruleset.rules", "row 'all-iv' is at payers/acme.rules:6 (variant acme)")
