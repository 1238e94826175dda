"""The pipeline's generic stages on a small made-up ruleset: the engine knows events,
durations, groups, ranks, roles, units and edits, and nothing of drug administration."""

import json

import pytest

import engine
from engine.core.encounter import EncounterError
from tests.declared import write_ruleset

RULESET = """\
ruleset toy 1.0
effective 2030-01-01 .. 2030-12-31
source manual "The toy manual"
vocabulary claim: north, south                      [manual]
vocabulary category: red, blue                      [manual]
vocabulary route: a, b                              [manual]
vocabulary method: slow, fast                       [manual]
vocabulary kind: big, small, none                   [manual]
code T1 initial "first big thing"                   [manual]
code T2 addon "each further big thing"              [manual]
code T3 addon "further hours"                       [manual]
code T4 initial "first small thing"                 [manual]
code T5 addon "further small thing"                 [manual]
modifier M1 "separate group"                        [manual]
finding too-short info [manual]
  "Too short to count."
finding orphan error [manual]
  "An add-on with no primary."
finding capped info [manual]
  "Over the limit."
const line = 10 min [manual]
  "Shorter than this is small."

table kind first per administration [manual]
  id        | category | duration  => kind  | finding
  red.short | red      | < 5 min   => none  | too-short
  red.big   | red      | >= line   => big   |
  red.small | red      | *         => small |
  blue      | blue     | *         => small |

merge reds [manual]
  combine kind = big per session
  minus overlap with kind = small per session

initial groups per session, site [manual]
  order: big > small
  ties: earliest start
  concurrent: big

units hours [manual]
  one per 1 h after 1 h, final part when > 30 min

table coding first per administration [manual]
  id            | kind  | role       => code | addon | addon_units
  big.initial   | big   | initial    => T1   | T3    | hours
  big.other     | big   | *          => T2   |       |
  small.initial | small | initial    => T4   |       |
  small.other   | small | *          => T5   |       |

table modifiers collect per line [manual]
  id      | role    | distinct => modifier
  m.group | initial | site     => M1

edit limits [manual]
  limit T5 to 1 per encounter
  finding capped

edit addons [manual]
  require T2, T5 with T1, T4
  finding orphan
"""


@pytest.fixture(scope="module")
def coders(tmp_path_factory):
    folder = tmp_path_factory.mktemp("toy")
    write_ruleset(folder, RULESET)
    return {name: engine.load(folder, engine=name) for name in ("compiled", "reference")}


def encounter(*administrations, claim="north"):
    return {"id": "e1", "date": "2030-05-01", "claim": claim, "administrations": [
        dict({"id": f"x{i}", "drug": f"d{i}", "route": "a", "method": "slow"}, **a)
        for i, a in enumerate(administrations, start=1)]}


def admin(category, start, stop=None, **extra):
    record = {"category": category, "start": f"2030-05-01T{start}"}
    if stop:
        record["stop"] = f"2030-05-01T{stop}"
    return dict(record, **extra)


def lines(result):
    return [(line.code, line.units, line.modifiers) for line in result.lines]


@pytest.mark.parametrize("name", ["compiled", "reference"])
def test_rank_not_time_picks_the_initial(coders, name):
    result = coders[name].code(encounter(admin("blue", "09:00", "09:01"), admin("red", "09:30", "09:45")))
    assert lines(result) == [("T1", 1, ()), ("T5", 1, ())]


@pytest.mark.parametrize("name", ["compiled", "reference"])
def test_merge_sums_time_less_overlap(coders, name):
    # Two big reds of 60 min each, 20 min of which overlap a small red: 100 min counted -> T1 + 1 unit T3.
    result = coders[name].code(encounter(admin("red", "09:00", "10:00"), admin("red", "10:00", "11:00"),
                                         admin("red", "10:30", "10:35", session="s")))
    assert ("T1", 1, ()) in lines(result)
    assert ("T3", 1, ()) in lines(result)
    merged = next(line for line in result.lines if line.code == "T1")
    assert merged.administrations == ("x1", "x2")


@pytest.mark.parametrize("name", ["compiled", "reference"])
def test_second_site_gets_the_group_modifier(coders, name):
    result = coders[name].code(encounter(admin("blue", "09:00", "09:01", site="L"),
                                         admin("blue", "09:10", "09:11", site="R")))
    assert lines(result) == [("T4", 1, ()), ("T4", 1, ("M1",))]


@pytest.mark.parametrize("name", ["compiled", "reference"])
def test_limit_and_finding(coders, name):
    result = coders[name].code(encounter(*(admin("blue", f"09:0{i}", f"09:0{i}") for i in range(4))))
    assert lines(result) == [("T4", 1, ()), ("T5", 1, ())]
    assert [f.id for f in result.findings] == ["capped"]
    assert result.findings[0].administrations == ("x3", "x4")


@pytest.mark.parametrize("name", ["compiled", "reference"])
def test_too_short_raises_its_finding_with_the_row(coders, name):
    result = coders[name].code(encounter(admin("red", "09:00", "09:04")))
    assert lines(result) == []
    assert [(f.id, f.rule) for f in result.findings] == [("too-short", "kind/red.short")]


def test_an_unknown_word_lists_the_ruleset_vocabulary(coders):
    with pytest.raises(EncounterError) as error:
        coders["compiled"].code(encounter(admin("green", "09:00", "09:05")))
    assert error.value.path == "administrations[0].category"
    assert "blue, red" in error.value.message


def test_a_date_outside_every_ruleset_is_rejected(coders):
    data = encounter(admin("red", "09:00", "09:30"))
    data["date"] = "2031-01-01"
    with pytest.raises(EncounterError) as error:
        coders["compiled"].code(data)
    assert error.value.path == "date"
    assert "2030-01-01 .. 2030-12-31" in error.value.message


@pytest.mark.parametrize("name", ["compiled", "reference"])
def test_a_number_cell_in_a_text_column_keeps_its_leading_zero(tmp_path, name):
    """`02` in a pos column is place of service "02", never the number 2 (issue 8, item 2)."""
    text = RULESET.replace("""  red.short | red      | < 5 min   => none  | too-short""",
                           """  telehealth | *       | *         => none  | too-short
  red.short | red      | < 5 min   => none  | too-short""").replace(
        "  id        | category | duration  => kind  | finding",
        "  id        | category | duration  | pos => kind  | finding").replace(
        "red.short | red      | < 5 min   =>", "red.short | red      | < 5 min   | * =>").replace(
        "red.big   | red      | >= line   =>", "red.big   | red      | >= line   | * =>").replace(
        "red.small | red      | *         =>", "red.small | red      | *         | * =>").replace(
        "blue      | blue     | *         =>", "blue      | blue     | *         | * =>").replace(
        "telehealth | *       | *         =>", "telehealth | *       | *         | 02, 10 =>")
    write_ruleset(tmp_path, text)
    coder = engine.load(tmp_path, engine=name)
    data = encounter(admin("blue", "09:00", "09:01"))
    assert lines(coder.code(data)) == [("T4", 1, ())]
    assert lines(coder.code(dict(data, pos="02"))) == []
    assert lines(coder.code(dict(data, pos="20"))) == [("T4", 1, ())]


@pytest.mark.parametrize("start,stop", [("2029-12-31T23:50", "2029-12-31T23:55"), ("2031-01-01T00:10", None),
                                        ("2029-12-31T23:59+00:00", "2030-01-01T00:20+00:00")])
def test_an_administration_before_or_after_the_rules_in_force_is_rejected(coders, start, stop):
    """The encounter's date picks the 2030 rules; an administration started in 2029 or 2031
    is not coded by them (issue 8, item 5)."""
    data = encounter(admin("red", "09:00", "09:30"), admin("blue", "10:00"))
    data["administrations"][1].update(start=start, **({"stop": stop} if stop else {}))
    with pytest.raises(EncounterError) as error:
        coders["compiled"].code(data)
    assert error.value.path == "administrations[1].start"
    assert error.value.message.startswith("expected a time within 2030-01-01 .. 2030-12-31, when ruleset toy 1.0")


@pytest.mark.parametrize("start", ["2030-01-01T00:00", "2030-12-31T23:59:59.999999", "2030-01-01T00:10+14:00",
                                   "2030-12-31T23:50-12:00"])
def test_an_administration_is_in_the_period_by_its_wall_clock_date(coders, start):
    """The first and last moments of the period are in it, and a time with an offset is in it
    by the date its wall clock shows, wherever that falls in UTC."""
    data = encounter(admin("red", "09:00", "09:30"), admin("blue", "10:00"))
    data["administrations"][1].update(start=start)
    assert coders["compiled"].code(data).lines
    assert coders["compiled"].select_json(json.dumps(data).encode()) is not None  # the typed way takes it too


def test_an_administration_started_in_the_period_may_run_past_its_end(coders):
    data = encounter(admin("red", "09:00", "09:30"))
    data.update(date="2030-12-31")
    data["administrations"][0].update(start="2030-12-31T23:30", stop="2031-01-01T00:30")
    assert lines(coders["compiled"].code(data)) == [("T1", 1, ())]
