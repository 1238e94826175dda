"""dsl.parser: each statement kind to its AST node with its span, cells, comments, limits.

AST nodes compare without their spans, so each test states the node it expects in
full and then checks the spans that diagnostics point at separately.
"""
import pytest

from dsl import ast
from dsl.diagnostics import RulesetError
from dsl.parser import MAX_COLUMNS, MAX_LINE_CHARS, MAX_NUMBER, MAX_ROWS, MAX_STATEMENTS, parse

N = ast.Name
CPT = (ast.Ref("cpt"),)


def statements(text: str) -> tuple:
    return parse(text, "t.rules").statements


def only(text: str):
    (node,) = statements(text)
    return node


def at(span: ast.Span) -> tuple:
    return (span.line, span.column, span.end_line, span.end_column)


def errors(text: str) -> list[tuple]:
    with pytest.raises(RulesetError) as caught:
        parse(text, "t.rules")
    return [(d.code, d.span.line, d.span.column) for d in caught.value.diagnostics]


# ----- header and declarations ------------------------------------------------

def test_header_statements():
    text = ('ruleset demo 2026.1\nextends base\npayer acme\neffective 2026-01-01 .. 2026-12-31\n'
            'include "more.rules"\n')
    header, extends, payer, effective, include = statements(text)
    assert header == ast.RulesetHeader("demo", "2026.1")
    assert extends == ast.Extends("base")
    assert payer == ast.PayerDecl("acme")
    assert effective == ast.Effective("2026-01-01", "2026-12-31")
    assert include == ast.Include("more.rules")
    assert [(s.span.line, s.span.column) for s in (header, extends, payer, effective)] == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert at(include.span) == (5, 9, 5, 21)  # the quoted path


def test_a_whole_number_is_a_version_too():
    assert only("ruleset demo 3\n") == ast.RulesetHeader("demo", "3")


def test_source_keeps_its_text_unquoted_with_escapes_resolved():
    node = only('source cpt "AMA \\"CPT\\" # not a comment \\\\ end"\n')
    assert node == ast.Source("cpt", 'AMA "CPT" # not a comment \\ end')
    assert at(node.span) == (1, 8, 1, 11)


def test_vocabulary_and_set():
    vocabulary, value_set = statements("vocabulary route: iv, im   [cpt, ncci]\nset facility_pos of pos: 19, 22 [cpt]\n")
    assert vocabulary == ast.Vocabulary("route", (N("iv"), N("im")), (ast.Ref("cpt"), ast.Ref("ncci")))
    assert at(vocabulary.span) == (1, 12, 1, 17)
    assert [at(v.span) for v in vocabulary.values] == [(1, 19, 1, 21), (1, 23, 1, 25)]
    assert [at(r.span) for r in vocabulary.refs] == [(1, 29, 1, 32), (1, 34, 1, 38)]
    assert value_set == ast.ValueSet("facility_pos", "pos", (N("19"), N("22")), CPT)
    assert at(value_set.span) == (2, 5, 2, 17)


def test_const_of_each_value_kind_with_and_without_doc():
    duration, number, name = statements('const a = 15 min [cpt]\n  "Doc."\nconst b = 2 [cpt]\nconst c = XE [cpt]\n')
    assert duration == ast.Const("a", ast.Duration(900, "15 min"), CPT, "Doc.")
    assert number == ast.Const("b", ast.Number(2, "2"), CPT, None)
    assert name == ast.Const("c", N("XE"), CPT, None)
    assert at(duration.span) == (1, 7, 1, 8)
    assert at(duration.value.span) == (1, 11, 1, 17)


def test_code_modifier_and_finding():
    code, modifier, finding = statements(
        'code 96365 initial "IV infusion" [cpt]\nmodifier XE "Separate encounter" [cpt]\n'
        'finding late warning [cpt]\n  "Too late."\n')
    assert code == ast.CodeDecl("96365", "initial", "IV infusion", CPT)
    assert modifier == ast.ModifierDecl("XE", "Separate encounter", CPT)
    assert finding == ast.FindingDecl("late", "warning", CPT, "Too late.")
    assert [at(s.span) for s in (code, modifier, finding)] == [(1, 6, 1, 11), (2, 10, 2, 12), (3, 9, 3, 13)]


def test_a_declaration_without_citation_parses_with_no_refs():
    assert only('code 96365 initial "IV infusion"\n').refs == ()


# ----- tables and cells -------------------------------------------------------

TABLE = """\
table service first per administration   [cpt]
  "Doc."
  id | route      | duration      | gap              => service  | finding
  a  | iv         | > 15 min      | 1 h .. 2 h       => infusion |
  b  | not iv, im | missing       | unknown          => -        | late, early
  c  | *          | <= push_limit | 16 min .. 90 min =>          |
"""


def test_table_header_rows_and_cells():
    table = only(TABLE)
    columns = ("id", "route", "duration", "gap")
    assert table == ast.Table(
        "service", "first", "administration", CPT, "Doc.",
        tuple(ast.Column(c) for c in columns), (ast.Column("service"), ast.Column("finding")),
        (ast.Row("a", (ast.Alternatives((N("iv"),)), ast.Comparison(">", ast.Duration(900, "15 min")),
                       ast.Between(ast.Duration(3600, "1 h"), ast.Duration(7200, "2 h"))),
                 (ast.Alternatives((N("infusion"),)), None)),
         ast.Row("b", (ast.Negated(ast.Alternatives((N("iv"), N("im")))), ast.MissingCell(), ast.MissingCell()),
                 (ast.BlankCell(), ast.Alternatives((N("late"), N("early"))))),
         ast.Row("c", (ast.AnyCell(), ast.Comparison("<=", N("push_limit")),
                       ast.Between(ast.Duration(960, "16 min"), ast.Duration(5400, "90 min"))),
                 (None, None))))


def spot(text: str, line: int, snippet: str) -> tuple:
    """The span (as `at` gives it) of the first `snippet` on a 1-based line of `text`."""
    column = text.split("\n")[line - 1].index(snippet) + 1
    return (line, column, line, column + len(snippet))


def test_table_spans_point_at_names_columns_rows_and_cells():
    table = only(TABLE)
    assert at(table.span) == spot(TABLE, 1, "service")
    assert [at(c.span) for c in table.inputs[:2]] == [spot(TABLE, 3, "id"), spot(TABLE, 3, "route")]
    assert at(table.outputs[1].span) == spot(TABLE, 3, "finding")
    row_a, row_b, row_c = table.rows
    assert [at(r.span) for r in table.rows] == [spot(TABLE, 4, "a"), spot(TABLE, 5, "b"), spot(TABLE, 6, "c")]
    assert at(row_a.inputs[1].span) == spot(TABLE, 4, "> 15 min")
    assert at(row_a.inputs[2].span) == spot(TABLE, 4, "1 h .. 2 h")
    assert at(row_a.inputs[2].high.span) == spot(TABLE, 4, "2 h")
    assert at(row_b.inputs[0].span) == spot(TABLE, 5, "not iv, im")
    assert at(row_b.outputs[1].values[1].span) == spot(TABLE, 5, "early")
    assert at(row_c.inputs[0].span) == spot(TABLE, 6, "*")


def test_durations_in_minutes_and_hours_are_seconds():
    row = only("table t first per administration [cpt]\n  id | duration => service\n"
               "  r  | 1 min, 90 min, 1 h, 8 h, 0 min => x\n").rows[0]
    assert [v.seconds for v in row.inputs[0].values] == [60, 5400, 3600, 28800, 0]
    assert [v.text for v in row.inputs[0].values] == ["1 min", "90 min", "1 h", "8 h", "0 min"]


def test_comparison_operators_and_plain_numbers():
    rows = only("table t first per em [cpt]\n  id | administration_lines => report\n"
                "  a | < 1 => yes\n  b | >= 2 => no\n  c | 3 .. 4 => no\n  d | 0, 5 => no\n").rows
    assert [r.inputs[0] for r in rows] == [
        ast.Comparison("<", ast.Number(1, "1")), ast.Comparison(">=", ast.Number(2, "2")),
        ast.Between(ast.Number(3, "3"), ast.Number(4, "4")), ast.Alternatives((ast.Number(0, "0"), ast.Number(5, "5")))]


def test_missing_and_unknown_are_the_same_cell():
    rows = only("table t collect per administration [cpt]\n  id | dose => finding\n"
                "  a | missing => x\n  b | unknown => x\n").rows
    assert rows[0].inputs == rows[1].inputs == (ast.MissingCell(),)


def test_empty_output_cells_are_none_and_a_dash_is_blank():
    row = only("table t first per line [cpt]\n  id | code => code | units | modifier\n  r | 96365 => | - |\n").rows[0]
    assert row.outputs == (None, ast.BlankCell(), None)


def test_empty_input_cells_are_none():
    row = only("table t first per line [cpt]\n  id | code | part => code\n  r | | base => 96365\n").rows[0]
    assert row.inputs == (None, ast.Alternatives((N("base"),)))


def test_amend_with_and_without_before():
    with_before, at_end = statements("amend table coding before push.repeat [cpt]\n  id | service => code\n  n | push => 96374\n"
                                     "amend table coding\n  id | service => code\n  m | push => 96375\n")
    assert with_before == ast.Amend("coding", "push.repeat", CPT, None, (ast.Column("id"), ast.Column("service")),
                                    (ast.Column("code"),),
                                    (ast.Row("n", (ast.Alternatives((N("push"),)),), (ast.Alternatives((ast.Number(96374, "96374"),)),)),))
    assert at(with_before.span) == (1, 13, 1, 19)
    assert at_end.before is None and at_end.refs == ()


# ----- stages -----------------------------------------------------------------

def test_merge_with_and_without_minus():
    with_minus, plain = statements(
        "merge hydration [cpt]\n  combine service = hydration per session, site\n"
        "  minus overlap with service = infusion, chemo_infusion per session\n"
        "merge other [cpt]\n  combine service = push per session\n")
    assert with_minus == ast.Merge("hydration", CPT, None, ast.Condition("service", (N("hydration"),)), ("session", "site"),
                                   ast.Condition("service", (N("infusion"), N("chemo_infusion"))), ("session",))
    assert at(with_minus.span) == (1, 7, 1, 16)
    assert plain.minus is None and plain.minus_keys == ()


def test_initial_ordered_by_a_selector():
    node = only("initial iv_access per session, site [cpt]\n  \"Doc.\"\n  order by claim\n"
                "    facility: chemo_infusion > infusion\n    professional: primary > infusion\n"
                "  ties: primary, earliest start, longest duration\n  concurrent: infusion\n")
    assert node == ast.Initial(
        "iv_access", ("session", "site"), CPT, "Doc.", "claim",
        (ast.Ranking("facility", (N("chemo_infusion"), N("infusion"))),
         ast.Ranking("professional", (N("primary"), N("infusion")))),
        ("primary", "earliest start", "longest duration"), (N("infusion"),))
    assert at(node.span) == (1, 9, 1, 18)
    assert at(node.rankings[0].order[1].span) == (4, 32, 4, 40)


def test_initial_with_one_flat_ranking():
    node = only("initial subq per session [cpt]\n  order: subq_infusion\n  ties: earliest start\n")
    assert node.selector is None
    assert node.rankings == (ast.Ranking(None, (N("subq_infusion"),)),)
    assert node.concurrent == ()


def test_units():
    node = only("units hours [cpt]\n  one per 1 h after 0 min, final part when > part_hour\n")
    assert node == ast.Units("hours", CPT, None, ast.Duration(3600, "1 h"), ast.Duration(0, "0 min"), N("part_hour"))
    assert at(node.span) == (1, 7, 1, 12)


def test_edit_with_each_clause_kind():
    node = only("edit e1 [cpt]\n  require 96361 with 96360, 96365\n  limit 96368 to 1 per encounter\n"
                "  pair 96360 with 96372 per session\n  distinct by site: XS\n  finding late\n")
    assert node == ast.Edit("e1", CPT, None, (
        ast.Require((N("96361"),), (N("96360"), N("96365"))),
        ast.Limit(N("96368"), 1, "encounter"),
        ast.Pair((N("96360"),), (N("96372"),), "session", (ast.Distinction("site", N("XS")),))), "late")
    assert at(node.span) == (1, 6, 1, 8)
    assert at(node.finding_span) == (6, 11, 6, 15)


def test_a_distinction_names_the_finding_for_a_missing_value_and_pairs_from_a_claim_type():
    node = only('edit e1 [cpt]\n  pairs from "p.csv" per date where claim = facility\n'
                "  distinct by site: XS, when missing finding no-site\n  finding late\n")
    (clause,) = node.clauses
    assert clause.where == (ast.Condition("claim", (N("facility"),)),)
    assert clause.distinctions == (ast.Distinction("site", N("XS"), "no-site"),)
    assert at(clause.distinctions[0].missing_span) == (3, 46, 3, 53)


# ----- comments, line ends, module --------------------------------------------

def test_comments_are_kept_out_of_the_statements():
    commented = statements("# top\n\n  # indented\nruleset demo 1  # trailing\n# between\n"
                           "source cpt \"a # b\"   # trailing\n# last, no newline")
    assert commented == (ast.RulesetHeader("demo", "1"), ast.Source("cpt", "a # b"))
    assert [s.span.line for s in commented] == [4, 6]


def test_comment_lines_between_table_rows_are_skipped():
    table = only("table t first per line [cpt]\n  id | code => code\n  # why\n  a | 96365 => 96365\n"
                 "  # another\n\n  b | 96374 => 96374\n")
    assert [(r.id, r.span.line) for r in table.rows] == [("a", 4), ("b", 7)]


def test_windows_line_ends_and_no_final_newline():
    assert statements("ruleset demo 1\r\nsource cpt \"x\"") == (ast.RulesetHeader("demo", "1"), ast.Source("cpt", "x"))


def test_an_empty_file_has_no_statements():
    assert statements("") == () and statements("# nothing\n\n") == ()


def test_the_module_keeps_path_and_text():
    module = parse("ruleset demo 1\n", "some/where.rules")
    assert (module.path, module.text) == ("some/where.rules", "ruleset demo 1\n")
    assert module.statements[0].span.file == "some/where.rules"


# ----- errors -----------------------------------------------------------------

def test_a_syntax_error_names_what_was_expected():
    with pytest.raises(RulesetError) as caught:
        parse("table t first per line [cpt]\n  id | code => code\n  a | 96365 96365\n", "t.rules")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E-syntax"
    assert at(diagnostic.span) == (3, 13, 3, 18)
    assert diagnostic.message == "unexpected '96365'; expected ',', '..', '=>', '|' or a name"


def test_an_unexpected_character_is_located():
    assert errors("ruleset demo 1\nsource cpt @\n") == [("E-syntax", 2, 12)]


def test_every_unknown_duration_unit_is_reported_at_once():
    with pytest.raises(RulesetError) as caught:
        parse("const a = 15 mins [cpt]\nconst b = 2 hours [cpt]\nconst c = 3 sec [cpt]\n", "t.rules")
    assert [(d.code, d.span.line, d.span.column, d.hint) for d in caught.value.diagnostics] == [
        ("E-unit", 1, 14, "did you mean 'min'?"),
        ("E-unit", 2, 13, "write minutes as 'min' and hours as 'h'"),
        ("E-unit", 3, 13, "write minutes as 'min' and hours as 'h'")]


# ----- limits -----------------------------------------------------------------

def test_a_line_past_the_limit_is_reported_where_it_passes_it():
    long_line = 'source cpt "' + "x" * MAX_LINE_CHARS + '"'
    assert errors(f"ruleset demo 1\n{long_line}\nsource a \"b\"\n{long_line}\n") == [
        ("E-limit", 2, MAX_LINE_CHARS + 1), ("E-limit", 4, MAX_LINE_CHARS + 1)]
    exact = 'source cpt "' + "x" * (MAX_LINE_CHARS - 13) + '"'
    assert len(exact) == MAX_LINE_CHARS and statements(exact + "\r\n")


def test_numbers_past_the_limit_are_reported_wherever_they_stand():
    text = (f"const a = {MAX_NUMBER + 1} min [cpt]\nconst b = {'9' * 400} [cpt]\n"
            "table t first per em [cpt]\n  id | administration_lines => report\n"
            f"  r | > 99999999999999999999 => yes\n"
            f"edit e [cpt]\n  limit 96368 to {MAX_NUMBER * 10} per encounter\n  finding f\n")
    assert errors(text) == [("E-limit", 1, 11), ("E-limit", 2, 11), ("E-limit", 5, 9), ("E-limit", 7, 18)]
    assert only(f"const a = {MAX_NUMBER} h [cpt]\n").value.seconds == MAX_NUMBER * 3600
    assert only("const a = 0000000000000042 [cpt]\n").value == ast.Number(42, "0000000000000042")


def test_a_code_is_a_name_not_a_number_and_has_no_size_limit():
    assert only('code 99999999999999999999 em "x" [cpt]\n').code == "99999999999999999999"


def test_too_many_statements():
    text = "".join(f'source s{i} "x"\n' for i in range(MAX_STATEMENTS + 1))
    assert errors(text) == [("E-limit", MAX_STATEMENTS + 1, 8)]
    assert len(statements(text.rsplit("source", 1)[0])) == MAX_STATEMENTS


def test_too_many_rows_in_a_table_or_an_amend():
    rows = "".join(f"  r{i} | push => 96374\n" for i in range(MAX_ROWS + 1))
    head = 3 + MAX_ROWS  # the first row past the limit
    text = f"table t first per administration [cpt]\n  id | service => code\n{rows}amend table t\n  id | service => code\n{rows}"
    assert errors(text) == [("E-limit", head, 3), ("E-limit", head + MAX_ROWS + 3, 3)]


def test_too_many_columns():
    columns = " | ".join(["claim"] * MAX_COLUMNS)
    with pytest.raises(RulesetError) as caught:
        parse(f"table t first per administration [cpt]\n  id | {columns} => code\n  r | iv => 96365\n", "t.rules")
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.message) == ("E-limit", f"table 't' has more than {MAX_COLUMNS} columns")
    assert diagnostic.span.column == 8 + 8 * (MAX_COLUMNS - 1)  # the last `claim`, column 65
