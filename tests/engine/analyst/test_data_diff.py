"""`infuse diff` on national edit data: pair by pair (added, deleted, removed, indicator
changed), MUE units, and a summary with the first few when a quarter changes thousands."""
import shutil

from dsl.checked import CheckedLimitsFrom, CheckedPairsFrom
from dsl.edit_data import read_limits, read_pairs
from engine.analyst.diff.data import SHOWN, clause_data_changes, data_changes
from engine.cli import main
from tests.conftest import RULESET_2026

HEADER = "column1,column2,effective,deletion,modifier\n"


def _pairs(text: str) -> CheckedPairsFrom:
    table, problems = read_pairs((HEADER + text).encode(), "data/ncci-ptp.csv")
    assert not problems
    return CheckedPairsFrom("data/ncci-ptp.csv", table.sha256, "date", (), table)


def test_pairs_are_compared_pair_by_pair():
    old = _pairs("96365,96372,20090101,*,1\n96369,96360,20090101,*,1\n96374,96376,20090101,*,9\n"
                 "96413,96372,20090101,*,1\n")
    new = _pairs("96365,96372,20090101,20260401,1\n96369,96360,20090101,*,0\n96413,96372,20090101,*,1\n"
                 "96401,96372,20260401,*,1\n")
    assert data_changes(old, new) == [
        "data data/ncci-ptp.csv: 1 added, 1 removed, 1 deleted, 1 indicator changed (4 → 4 rows)",
        "  added: 96401/96372 (indicator 1, effective 2026-04-01)",
        "  removed: 96374/96376 (indicator 9, effective 2009-01-01)",
        "  deleted: 96365/96372 deleted 2026-04-01 (was indicator 1, effective 2009-01-01)",
        "  indicator changed: 96369/96360 indicator 1 → 0",
    ]


def test_the_same_bytes_are_no_change():
    text = "96365,96372,20090101,*,1\n"
    assert data_changes(_pairs(text), _pairs(text)) == []


def test_thousands_of_changes_are_counted_and_the_first_few_shown():
    old = _pairs("".join(f"{10000 + i},96372,20090101,*,1\n" for i in range(5000)))
    new = _pairs("".join(f"{10000 + i},96372,20090101,*,{0 if i % 2 else 1}\n" for i in range(5000))
                 + "".join(f"{20000 + i},96372,20260401,*,1\n" for i in range(3000)))
    lines = data_changes(old, new)
    assert lines[0] == "data data/ncci-ptp.csv: 3000 added, 2500 indicator changed (5,000 → 8,000 rows)"
    assert len(lines) == 1 + 2 * (SHOWN + 1)
    assert "  added: … and 2,990 more" in lines and "  indicator changed: … and 2,490 more" in lines


def test_mue_units_and_indicators():
    def limits(text):
        table, _ = read_limits(("code,units,mai\n" + text).encode(), "data/mue.csv")
        return CheckedLimitsFrom("data/mue.csv", table.sha256, "date", table)
    old = limits("96360,1,1\n96361,24,3\n96368,1,2\n")
    new = limits("96360,1,2\n96361,8,3\n96375,6,3\n")
    assert clause_data_changes((old,), (new,)) == [
        "data data/mue.csv: 1 added, 1 removed, 1 units changed, 1 indicator changed (3 → 3 rows)",
        "  added: 96375 6 units (MAI 3)",
        "  removed: 96368 1 units (MAI 2)",
        "  units changed: 96361 24 → 8 units (MAI 3)",
        "  indicator changed: 96360 MAI 1 → 2",
    ]


def test_infuse_diff_reports_a_new_quarter(tmp_path, capsys):
    new = tmp_path / "2026"
    shutil.copytree(RULESET_2026, new)
    ptp = new / "data" / "ncci-ptp-hospital.csv"
    ptp.write_text(ptp.read_text().replace("96365,96372,20090101,*,1", "96365,96372,20090101,*,0"))
    assert main(["diff", str(RULESET_2026), str(new)]) == 1
    out = capsys.readouterr().out
    assert "data data/ncci-ptp-hospital.csv: 1 indicator changed (17 → 17 rows)" in out
    assert "indicator changed: 96365/96372 indicator 1 → 0" in out
    assert "lines 96372-XS → nothing; findings + ncci-pair-bundled" in out  # the behaviour it brings
