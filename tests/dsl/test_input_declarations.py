"""The input language: `form`, `encounter` and `events` blocks, their fields and derived facts.

Parsed into dsl.ast (Form, InputDecl, FieldDecl, DerivedDecl, Derivation), checked by
dsl/check_input.py into dsl.checked.CheckedInput. Each diagnostic test edits one line of
tests/fixtures/input.rules, which checks clean as it is (test_the_fixture_checks_clean), so
every diagnostic asserted is the edit's and would be missing without its check.
"""
from __future__ import annotations

import shutil

import pytest

from dsl import ast
from dsl.check_input import always_present, scopes
from dsl.checked import FieldType
from dsl.checker import check
from dsl.diagnostics import RulesetError
from dsl.formatter import format_text
from dsl.loader import load_family
from dsl.parser import parse
from engine.cli import main
from engine.core.schema import SCHEMA
from tests.conftest import INPUT_RULES, ROOT, RULESET_2026

INPUT = INPUT_RULES.read_text(encoding="utf-8")
HEAD = """\
ruleset t 1
effective 2026-01-01 .. 2026-12-31
source cpt "CPT"
vocabulary claim: facility, professional   [cpt]
vocabulary category: therapeutic, hydration [cpt]
vocabulary route: iv, im, subq             [cpt]
vocabulary method: push, infusion          [cpt]
"""
HEAD_LINES = HEAD.count("\n")


def line_of(text: str, start: str) -> int:
    """The line number, in the checked text, of the first line of the fixture starting with `start`."""
    return HEAD_LINES + next(i for i, line in enumerate(INPUT.splitlines(), 1) if line.startswith(start))


def edited(old: str = "", new: str = "", head: str = HEAD, extra: str = "") -> str:
    assert old in INPUT, old
    return head + INPUT.replace(old, new, 1) + extra


def checked(text: str):
    return check(list(parse(text, "t.rules").statements), SCHEMA, "sha256:test", {"t.rules": text})


def errors(text: str) -> list[tuple]:
    """(code, line, message, hint) of every diagnostic the checker reports."""
    with pytest.raises(RulesetError) as caught:
        checked(text)
    return [(d.code, d.span.line, d.message, d.hint) for d in caught.value.diagnostics]


# ----- parsing ----------------------------------------------------------------

def test_a_form_parses_with_its_pattern_and_description():
    (form,) = parse('form two_digits "[0-9]{2}" "two digits" [cpt]\n', "f.rules").statements
    assert isinstance(form, ast.Form)
    assert (form.name, form.pattern, form.described, [r.source for r in form.refs]) == (
        "two_digits", "[0-9]{2}", "two digits", ["cpt"])


def test_the_encounter_parses_its_fields_options_and_meanings():
    text = ('encounter [cpt]\n  "One encounter."\n  field id: text, required, unique "its id"\n'
            "  field payer: text, picks payer\n  field primary: id of administration\n")
    (encounter,) = parse(text, "e.rules").statements
    assert isinstance(encounter, ast.InputDecl)
    assert (encounter.kind, encounter.key, encounter.options, encounter.doc, encounter.derived) == (
        None, None, (), "One encounter.", ())
    ident, payer, primary = encounter.fields
    assert (ident.name, ident.type, ident.refers_to, ident.options, ident.first_in, ident.meaning) == (
        "id", "text", None, ("required", "unique"), None, "its id")
    assert payer.options == ("picks payer",)
    assert (primary.type, primary.refers_to) == ("id", "administration")


def test_an_events_block_parses_its_options_and_field_options():
    text = ("events dose from doses, required, at most 5, timed begin .. end, alike by drug [cpt]\n"
            "  field drug: text, required, folded\n  field note: text, blank\n"
            "  field session: text, else first in dose\n")
    (events,) = parse(text, "e.rules").statements
    assert (events.kind, events.key) == ("dose", "doses")
    assert events.options == (("required",), ("at_most", 5), ("timed", "begin", "end"), ("alike", "drug"))
    drug, note, session = events.fields
    assert (drug.options, note.options, session.options, session.first_in) == (
        ("required", "folded"), ("blank",), (), "dose")


@pytest.mark.parametrize("written,builtin,fields,where,per", [
    ("time from start to stop", "time_between", ("start", "stop"), (), ()),
    ("days between date and start", "days_between", ("date", "start"), (), ()),
    ("time since previous per drug", "time_since", (), (), ("drug",)),
    ("count of previous where route = iv, im and method = push per drug, site", "count_previous", (),
     (("route", ("iv", "im")), ("method", ("push",))), ("drug", "site")),
    ("overlaps previous where route = iv", "overlaps_previous", (), (("route", ("iv",)),), ()),
    ("previous per drug differs in route", "previous_differs", ("route",), (), ("drug",)),
    ("count of administration lines per session", "count_lines", ("administration",), (), ("session",)),
])
def test_each_derivation_parses_to_its_builtin(written, builtin, fields, where, per):
    text = f'events x from xs [cpt]\n  field id: text\n  derive fact = {written} "what it is"\n'
    (events,) = parse(text, "d.rules").statements
    (derived,) = events.derived
    assert isinstance(derived, ast.DerivedDecl) and (derived.name, derived.meaning) == ("fact", "what it is")
    derivation = derived.derivation
    assert (derivation.builtin, derivation.fields, derivation.per) == (builtin, fields, per)
    assert tuple((c.field, tuple(v.text for v in c.values)) for c in derivation.where) == where


# ----- what the check makes of the fixture ------------------------------------

def test_the_fixture_checks_clean():
    declared = checked(HEAD + INPUT).input
    assert [k.name for k in declared.kinds] == ["administration", "em"]
    assert (declared.main.name, declared.id_field, declared.date_field) == ("administration", "id", "date")
    administration = declared.kind("administration")
    assert (administration.key, administration.required, administration.at_most, administration.start,
            administration.stop, administration.alike, administration.duration, administration.id_field) == (
        "administrations", True, 1000, "start", "stop", "drug", "duration", "id")
    em = declared.kind("em")
    assert (em.required, em.at_most, em.start, em.duration, em.id_field) == (False, 100, None, None, None)
    fields = {f.name: f for f in declared.fields}
    assert fields["claim"].type == FieldType("enum", ("facility", "professional"))
    assert fields["pos"].type == FieldType("text", pattern="[0-9]{2}", form="two digits")
    assert fields["payer"].picks_payer and fields["id"].unique and fields["id"].required
    assert (fields["primary"].type, fields["primary"].refers_to) == (FieldType("id"), "administration")
    session = next(f for f in em.fields if f.name == "session")
    assert session.first_in == "administration"


def test_scopes_give_each_kind_the_encounter_fields_its_readable_fields_and_derived_facts():
    """Not ids (the unique fields and `id of` fields), times or dates: derived facts measure those."""
    offered = scopes(checked(HEAD + INPUT).input)
    assert set(offered) == {"administration", "em"}
    shared = {"claim", "pos", "payer"}
    assert set(offered["administration"]) == shared | {
        "drug", "dose", "category", "hormonal", "pump", "route", "method", "site", "session", "indication",
        "response", "duration", "gap", "days_from_date"}
    assert set(offered["em"]) == shared | {"code", "session", "separately_identifiable", "administration_lines"}
    administration = offered["administration"]
    assert (administration["route"], administration["hormonal"], administration["duration"],
            administration["days_from_date"]) == (
        FieldType("enum", ("iv", "im", "subq")), FieldType("bool"), FieldType("duration"), FieldType("number"))
    assert offered["em"]["code"] == FieldType("text", pattern="[0-9]{5}", form="five digits")


def test_the_checked_schema_reads_the_declared_scopes_and_lines_read_the_first_kind():
    ruleset = checked(HEAD + INPUT)
    schema = ruleset.schema
    assert schema.event_scope == "administration" and schema.inherits == {"line": "administration"}
    assert schema.scopes["line"] == {**schema.scopes["administration"], **SCHEMA.line_attributes}
    assert schema.scopes["em"] == scopes(ruleset.input)["em"]


def test_always_present_holds_required_fields_flags_counts_and_days_between_required_times():
    assert always_present(checked(HEAD + INPUT).input) == {
        "id", "date", "claim",  # the encounter's required fields
        "drug", "category", "route", "method", "start", "code",  # the events' required fields
        "hormonal", "pump", "separately_identifiable",  # flags: false when absent
        "administration_lines",  # a count is never missing
        "days_from_date",  # between two required fields
    }


def test_days_between_a_time_that_may_be_missing_is_not_always_present():
    text = edited("days between date and start", "days between date and stop")
    assert "days_from_date" not in always_present(checked(text).input)


# ----- diagnostics ------------------------------------------------------------

def test_an_unknown_field_type_suggests_the_vocabulary_it_may_mean():
    assert errors(edited("field claim: claim,", "field claim: clam,")) == [
        ("E-name", line_of(INPUT, "  field claim:"), "unknown type 'clam' of field 'claim'", "did you mean 'claim'?")]


def test_a_field_typed_by_an_undeclared_vocabulary_is_an_unknown_type():
    """Once 'the ruleset must declare vocabulary claim' (E-vocabulary); now the field's type is unknown."""
    head = HEAD.replace("vocabulary claim: facility, professional   [cpt]\n", "")
    assert errors(edited(head=head)) == [
        ("E-name", line_of(INPUT, "  field claim:") - 1, "unknown type 'claim' of field 'claim'",
         "expected text, flag, number, date, time, a form or a vocabulary")]


def test_a_field_declared_twice():
    text = edited("  field pump: flag\n", "  field pump: flag\n  field drug: text\n")
    assert errors(text) == [("E-duplicate", line_of(INPUT, "  field pump:") + 1, "field 'drug' is declared twice",
                             f"first declared at line {line_of(INPUT, '  field drug:')}")]


def test_a_kind_of_event_or_a_key_declared_twice():
    extra_kind = "\nevents em from visits [cpt]\n  field code: text\n"
    extra_key = "\nevents visit from em [cpt]\n  field code: text\n"
    at = HEAD_LINES + INPUT.count("\n") + 2
    first = line_of(INPUT, "events em")
    assert errors(edited(extra=extra_kind)) == [
        ("E-duplicate", at, "kind of event 'em' is declared twice", f"first declared at line {first}")]
    assert errors(edited(extra=extra_key)) == [
        ("E-duplicate", at, "key 'em' is declared twice", f"first declared at line {first}")]


def test_the_encounter_declared_twice():
    assert errors(edited(extra="\nencounter [cpt]\n  field id: text, required, unique\n")) == [
        ("E-duplicate", HEAD_LINES + INPUT.count("\n") + 2, "the encounter is declared twice",
         f"first declared at line {line_of(INPUT, 'encounter')}")]


@pytest.mark.parametrize("timed,name,hint", [
    ("timed start .. site", "site", None),  # a text field: no time field is close to it
    ("timed start .. stp", "stp", "did you mean 'stop'?"),
])
def test_timed_must_name_time_fields_of_the_kind(timed, name, hint):
    assert errors(edited("timed start .. stop", timed)) == [
        ("E-input", line_of(INPUT, "events administration"),
         f"'{timed}' needs '{name}' to be a time field of 'administration'", hint)]


def test_the_start_of_a_timed_kind_is_required():
    assert errors(edited("  field start: time, required\n", "  field start: time\n")) == [
        ("E-input", line_of(INPUT, "  field start:"),
         "the start of a timed event is required: write 'field start: time, required'", None)]


@pytest.mark.parametrize("derivation", [
    "count of previous per session", "time since previous", "overlaps previous", "previous differs in code"])
def test_a_fact_about_earlier_events_needs_a_timed_kind(derivation):
    text = edited("  field separately_identifiable: flag\n",
                  f"  field separately_identifiable: flag\n  derive earlier = {derivation}\n")
    assert errors(text) == [("E-input", line_of(INPUT, "  field separately_identifiable:") + 1,
                             "'earlier' looks at earlier events, so 'em' must be timed (timed START .. STOP)", None)]


def test_picks_payer_is_for_the_encounter_not_an_event():
    text = edited("  field pump: flag\n", "  field pump: flag\n  field insurer: text, picks payer\n")
    assert errors(text) == [("E-input", line_of(INPUT, "  field pump:") + 1,
                             "'picks payer' is for a field of the encounter, not of an event", None)]


def test_only_one_field_of_the_encounter_picks_the_payer():
    text = edited("  field primary:", "  field insurer: text, picks payer\n  field primary:")
    assert errors(text) == [("E-input", line_of(INPUT, "encounter"),
                             "only one field of the encounter may pick the payer", None)]


def test_a_folded_vocabulary_field_has_only_folded_words():
    """A record's word is folded before it is looked up: `IV` could never be found."""
    assert checked(edited("  field route: route, required", "  field route: route, required, folded"))
    head = HEAD.replace("vocabulary route: iv, im, subq", "vocabulary route: IV, im, subq")
    assert errors(edited("  field route: route, required", "  field route: route, required, folded", head=head)) == [
        ("E-input", line_of(INPUT, "  field route:"), "'route' is folded, but its vocabulary has the word 'IV', "
         "which no folded value equals", "write it 'iv'")]


def test_a_flag_cannot_be_required():
    assert errors(edited("  field pump: flag\n", "  field pump: flag, required\n")) == [
        ("E-input", line_of(INPUT, "  field pump:"), "flag 'pump' is false when absent; it cannot be required", None)]


@pytest.mark.parametrize("option,allowed", [("blank", "text"), ("folded", "text or enum"), ("unique", "text")])
def test_text_options_on_a_flag(option, allowed):
    found = errors(edited("  field pump: flag\n", f"  field pump: flag, {option}\n"))
    assert ("E-input", line_of(INPUT, "  field pump:"), f"'{option}' is for {allowed} fields; 'pump' is bool",
            None) in found
    # a second unique field is also a second id of the kind
    assert len(found) == (2 if option == "unique" else 1)


def test_a_derived_fact_on_the_encounter_is_an_error_not_dropped():
    found = errors(edited("  field primary: id of administration\n",
                          "  field primary: id of administration\n  derive n = count of previous\n"))
    assert found == [("E-input", line_of(INPUT, "  field primary:") + 1,
                      "'derive n' belongs to a kind of events: facts are derived per event", None)]


def test_else_first_in_on_the_encounter_is_an_error_not_ignored():
    """The readers fill `else first in` only in events' fields: on the encounter it would be
    accepted and do nothing."""
    text = edited("  field primary: id of administration\n",
                  "  field primary: id of administration\n  field team: text, else first in administration\n")
    assert errors(text) == [("E-input", line_of(INPUT, "  field primary:") + 1,
                             "'else first in administration' belongs to a field of a kind of events: "
                             "an encounter's field is read as documented, never filled in", None)]


def test_else_first_in_an_unknown_kind():
    old = "  field session: text, else first in administration\n  field separately"
    text = edited(old, old.replace("first in administration", "first in administraton"))
    assert errors(text) == [("E-name", line_of(INPUT, "  field separately_identifiable:") - 1,
                             "unknown kind of event 'administraton'", "did you mean 'administration'?")]


def test_else_first_in_a_kind_without_the_field():
    text = edited("  field separately_identifiable: flag\n",
                  "  field separately_identifiable: flag\n  field mood: text, else first in administration\n")
    assert errors(text) == [("E-input", line_of(INPUT, "  field separately_identifiable:") + 1,
                             "'else first in administration' needs a field 'mood' there", None)]


@pytest.mark.parametrize("old,new,start", [
    ("id of administration", "id of administrations", "  field primary:"),
    ("count of administration lines", "count of administrations lines", "  derive administration_lines"),
])
def test_an_unknown_kind_of_event_named_by_a_field_or_a_count(old, new, start):
    assert errors(edited(old, new)) == [
        ("E-name", line_of(INPUT, start), "unknown kind of event 'administrations'", "did you mean 'administration'?")]


@pytest.mark.parametrize("kept,missing", [
    ("events administration", "'encounter'"),  # the text from the first events block on
    ("", "'events KIND from KEY'"),  # the text up to it
])
def test_a_ruleset_that_declares_no_encounter_or_no_events(kept, missing):
    cut = INPUT.index("events administration")
    declared = INPUT[cut:] if kept else INPUT[:cut]
    assert errors(HEAD + declared) == [
        ("E-input", 1, f"the ruleset must declare its input: {missing} with its fields", None)]


def test_an_empty_file_is_told_to_declare_its_input_at_its_first_line():
    with pytest.raises(RulesetError) as caught:
        checked("")
    found = [d for d in caught.value.diagnostics if d.code == "E-input"]
    assert [(d.span.file, d.span.line) for d in found] == [("t.rules", 1)]


def test_the_encounter_needs_its_id_and_date():
    no_id = edited("  field id: text, required, unique\n  field date", "  field id: text\n  field date")
    assert errors(no_id) == [("E-input", line_of(INPUT, "encounter"),
                              "the encounter needs one required 'unique' text field: the id its result echoes", None)]
    no_date = errors(edited("  field date: date, required\n", ""))
    assert ("E-input", line_of(INPUT, "encounter"), "the encounter needs one required date field: its date of service",
            None) in no_date


def test_only_one_field_of_a_kind_is_unique():
    text = edited("  field drug: text, required, folded\n", "  field drug: text, required, folded, unique\n")
    assert errors(text) == [("E-input", line_of(INPUT, "events administration"),
                             "only one field of 'administration' may be unique: its id", None)]


def test_alike_by_an_unknown_field():
    assert errors(edited("alike by drug", "alike by drugs")) == [
        ("E-name", line_of(INPUT, "events administration"), "unknown field 'drugs'", "did you mean 'drug'?")]


def test_days_between_a_field_that_is_no_date_or_time():
    assert errors(edited("days between date and start", "days between date and site")) == [
        ("E-input", line_of(INPUT, "  derive days_from_date"),
         "'site' is not a date or time field of 'administration' or the encounter", None)]


@pytest.mark.parametrize("derivation,message,hint", [
    ("time since previous per drugg", "unknown field of 'administration' 'drugg'", "did you mean 'drug'?"),
    ("time since previous where rout = iv per drug", "unknown field 'rout'", "did you mean 'route'?"),
    ("previous per drug differs in rout", "unknown field of 'administration' 'rout'", "did you mean 'route'?"),
])
def test_an_unknown_field_in_where_per_or_differs(derivation, message, hint):
    assert errors(edited("time since previous per drug", derivation)) == [
        ("E-name", line_of(INPUT, "  derive gap"), message, hint)]


def test_a_condition_value_outside_the_vocabulary():
    text = edited("time since previous per drug", "time since previous where route = vein per drug")
    assert errors(text) == [("E-value", line_of(INPUT, "  derive gap"), "'vein' is not a value of 'route'",
                             "expected one of: iv, im, subq")]


def test_a_condition_keeps_the_values_it_names():
    text = edited("time since previous per drug", "time since previous where route = iv, im per drug")
    gap = next(d for d in checked(text).input.main.derived if d.name == "gap")
    assert gap.where == (("route", frozenset({"iv", "im"})),)


def test_a_form_repeating_past_the_limit_of_re_is_an_error_not_a_crash():
    [form_error, *_] = errors(edited('"[0-9]{2}"', '"[0-9]{99999999999999999999}"'))
    assert form_error[:3] == ("E-form", line_of(INPUT, "form two_digits"),
                              "form 'two_digits' is not a valid pattern: the repetition number is too large")


def test_a_form_that_is_not_a_pattern_and_a_form_declared_twice():
    [form_error, *_] = errors(edited('"[0-9]{2}"', '"[0-9{2}"'))
    assert form_error[:3] == ("E-form", line_of(INPUT, "form two_digits"),
                              "form 'two_digits' is not a valid pattern: unterminated character set at position 0")
    twice = errors(edited("form five_digits", "form two_digits"))
    assert ("E-duplicate", line_of(INPUT, "form five_digits"), "form 'two_digits' is declared twice",
            f"first declared at line {line_of(INPUT, 'form two_digits')}") in twice


# ----- fmt --------------------------------------------------------------------

def test_fmt_check_is_clean_on_the_2026_input(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["fmt", "--check", "rulesets/2026/input.rules"]) == 0
    capsys.readouterr()


def test_fmt_aligns_the_meanings_of_declared_fields():
    text = ("events e from es [cpt]\n  field id: text, required, unique \"the id\"\n"
            "  field payer: text, picks payer   \"the payer\"\n  field pos: text\n"
            "  derive n = count of previous \"how many before\"\n")
    assert format_text(text) == ("events e from es [cpt]\n"
                                 "  field id: text, required, unique \"the id\"\n"
                                 "  field payer: text, picks payer   \"the payer\"\n"
                                 "  field pos: text\n"
                                 "  derive n = count of previous     \"how many before\"\n")


@pytest.mark.parametrize("path", [RULESET_2026 / "input.rules", INPUT_RULES], ids=["2026", "fixture"])
def test_fmt_is_idempotent_and_keeps_the_input_declarations(path):
    text = path.read_text(encoding="utf-8")
    once = format_text(text, str(path))
    assert format_text(once, str(path)) == once
    assert parse(once, "x.rules").statements == parse(text, "x.rules").statements


def test_a_pattern_a_future_python_may_read_otherwise_is_a_located_error_not_a_terminal_warning(recwarn):
    found = errors(edited('form two_digits "[0-9]{2}"', 'form two_digits "[[0-9]{2}"'))
    assert ("E-form", line_of(INPUT, "form two_digits"), "form 'two_digits': Possible nested set at position 1",
            "a future Python may read this pattern otherwise; escape the character") in found
    assert not [w for w in recwarn if w.category is FutureWarning]


@pytest.mark.parametrize("declared", ["encounter [cpt]\n  field id: text, required, unique\n",
                                      "events em from em [cpt]\n  field code: text, required\n",
                                      'form two_digits "[0-9]{3}" "three digits" [cpt]\n'])
def test_a_payer_variant_cannot_declare_input(tmp_path, declared):
    """One input per year: a variant's `events` would otherwise replace whichever input block
    the base has last (they share no name), silently."""
    folder = tmp_path / "2026"
    shutil.copytree(RULESET_2026, folder, ignore=shutil.ignore_patterns("tests"))
    variant = folder / "payers" / "commercial.rules"
    variant.write_text(variant.read_text() + "\n" + declared)
    with pytest.raises(RulesetError) as caught:
        load_family(folder, SCHEMA)
    (problem,) = [d for d in caught.value.diagnostics if d.code == "E-input"]
    assert problem.message.startswith("a payer variant cannot declare input")
    assert problem.span.file.endswith("commercial.rules")
