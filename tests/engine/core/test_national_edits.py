"""National edit data in the edit stage (`pairs from`, `limit from`): modifier indicators 0, 1
and 9, effective and deletion dates against the date of service, distinctions and the finding
of a missing one, one file per claim type, the add-on requirement after them, MUE
adjudication indicators, both engines alike, and the loader's handling of the files (digest,
confinement, located mistakes)."""
import os
import shutil

import pytest

import engine
from dsl.diagnostics import RulesetError, render_all
from tests.conftest import RULESET_2026

PTP_HEADER = "column1,column2,effective,deletion,modifier\n"
MUE_HEADER = "code,units,mai\n"


def _folder(tmp_path, ptp: str | None = None, mue: str | None = None, practitioner: str | None = None,
            practitioner_mue: str | None = None):
    """The 2026 ruleset with `ptp` and `mue` as its hospital outpatient pairs and limits (the
    files of facility claims, the claim type of most encounters here), `practitioner` and
    `practitioner_mue` as its practitioner pairs and limits."""
    folder = tmp_path / "2026"
    shutil.copytree(RULESET_2026, folder)
    if ptp is not None:
        (folder / "data" / "ncci-ptp-hospital.csv").write_text(PTP_HEADER + ptp)
    if practitioner is not None:
        (folder / "data" / "ncci-ptp-practitioner.csv").write_text(PTP_HEADER + practitioner)
    if mue is not None:
        (folder / "data" / "mue-hospital.csv").write_text(MUE_HEADER + mue)
    if practitioner_mue is not None:
        (folder / "data" / "mue-practitioner.csv").write_text(MUE_HEADER + practitioner_mue)
    return folder


def _hydration_beside_subq(date="2026-03-14", site=None):
    """A subcutaneous infusion (96369) and, after it in the same session, IV hydration (96360)."""
    hydration = {"id": "a2", "drug": "normal saline", "category": "hydration", "route": "iv", "method": "infusion",
                 "start": f"{date}T11:05", "stop": f"{date}T12:00", "session": "1"}
    if site:
        hydration["site"] = site
    return {"id": "e1", "date": date, "claim": "facility", "pos": "22", "administrations": [
        {"id": "a1", "drug": "immune globulin", "category": "therapeutic", "route": "subq", "method": "infusion",
         "start": f"{date}T10:00", "stop": f"{date}T11:00", "site": "abdomen-L", "session": "1"}, hydration]}


def _traced(coder, record):
    """The result and its trace, as `infuse explain` gets them."""
    ruleset, encounter = coder.select(record)
    trace: list = []
    return coder.pipeline(ruleset).run(encounter, trace=trace), trace


def _lines(coder, record):
    result = coder.code(record)
    return sorted(f"{line.code}{''.join('-' + m for m in line.modifiers)}" for line in result.lines), result


def _both(folder, record):
    """The lines both engines code, which must agree."""
    compiled = _lines(engine.load(folder, engine="compiled"), record)
    reference = _lines(engine.load(folder, engine="reference"), record)
    assert compiled[0] == reference[0]
    assert [f.as_dict() for f in compiled[1].findings] == [f.as_dict() for f in reference[1].findings]
    return compiled


@pytest.mark.parametrize("indicator, site, expected", [
    ("1", None, ["96369"]),                    # no distinction holds: bundled
    ("1", "R-forearm", ["96360-XS", "96369"]),  # a distinct site: kept with its modifier
    ("0", "R-forearm", ["96369"]),             # never separately, distinct or not
    ("9", None, ["96360", "96369"]),           # not applicable
])
def test_modifier_indicators(tmp_path, indicator, site, expected):
    folder = _folder(tmp_path, ptp=f"96369,96360,20090101,*,{indicator}\n")
    lines, result = _both(folder, _hydration_beside_subq(site=site))
    assert lines == expected
    bundled = "96360" not in "".join(lines)
    assert any(f.id == "ncci-pair-bundled" for f in result.findings) == bundled


@pytest.mark.parametrize("effective, deletion, applies", [
    ("20260314", "*", True),         # effective on the date of service
    ("20260315", "*", False),        # not yet effective
    ("20090101", "20260314", False),  # deleted on the date of service: no longer in force
    ("20090101", "20260315", True),   # deleted the day after
    ("2009-01-01", "", True),         # ISO dates, no deletion
])
def test_effective_and_deletion_dates_against_the_date_of_service(tmp_path, effective, deletion, applies):
    folder = _folder(tmp_path, ptp=f"96369,96360,{effective},{deletion},1\n")
    lines, _ = _both(folder, _hydration_beside_subq())
    assert lines == (["96369"] if applies else ["96360", "96369"])


def test_a_row_deleted_and_a_later_row_for_the_same_pair(tmp_path):
    folder = _folder(tmp_path, ptp="96369,96360,20090101,20200101,9\n96369,96360,20200101,*,1\n")
    assert _both(folder, _hydration_beside_subq())[0] == ["96369"]


def test_the_trace_names_the_row_that_acted(tmp_path):
    folder = _folder(tmp_path, ptp="96365,96372,20090101,*,1\n96369,96360,20090101,*,1\n")
    _, trace = _traced(engine.load(folder), _hydration_beside_subq())
    records = [r.as_dict() for r in trace if r.stage == "edit" and r.edit == "edit/ncci-ptp"]
    assert records == [{"stage": "edit", "edit": "edit/ncci-ptp", "clause": 1, "action": "remove", "code": "96360",
                        "subject": ("a2",), "row": f"{os.path.relpath(folder)}/data/ncci-ptp-hospital.csv:3",
                        "indicator": "1", "partner": "96369"}]


def test_an_addon_whose_primary_the_national_pairs_bundle_goes_too(tmp_path):
    """The add-on requirement runs after the national edits: hydration's 96360 bundled into the
    subcutaneous infusion takes its additional hour (96361) with it."""
    record = _hydration_beside_subq()
    record["administrations"][1]["stop"] = "2026-03-14T13:00"
    folder = _folder(tmp_path, ptp="96369,96360,20090101,*,0\n")
    lines, result = _both(folder, record)
    assert lines == ["96369"]
    assert {f.id for f in result.findings} >= {"ncci-pair-bundled", "addon-without-primary"}


@pytest.mark.parametrize("claim, pos, expected", [
    ("professional", "11", ["96369"]),         # the practitioner file bundles 96360
    ("facility", "22", ["96360", "96369"]),    # the hospital file has no such row
])
def test_each_claim_type_takes_its_own_pairs(tmp_path, claim, pos, expected):
    folder = _folder(tmp_path, ptp="", practitioner="96369,96360,20090101,*,0\n")
    record = {**_hydration_beside_subq(), "claim": claim, "pos": pos}
    assert _both(folder, record)[0] == expected


def _push_and_injection(push_site, injection_site):
    administrations = [
        {"id": "a1", "drug": "ondansetron", "category": "therapeutic", "route": "iv", "method": "push",
         "start": "2026-03-14T10:00", "stop": "2026-03-14T10:02", "site": push_site},
        {"id": "a2", "drug": "ketorolac", "category": "therapeutic", "route": "im", "method": "injection",
         "start": "2026-03-14T10:10", "site": injection_site}]
    return {"id": "e4", "date": "2026-03-14", "claim": "facility", "pos": "23",
            "administrations": [{k: v for k, v in a.items() if v is not None} for a in administrations]}


@pytest.mark.parametrize("push_site, injection_site, expected, findings", [
    ("L-forearm", None, ["96374"], {"injection-bundled", "injection-site-not-documented"}),  # a gap
    (None, None, ["96374"], {"injection-bundled", "injection-site-not-documented"}),
    ("L-forearm", "L-forearm", ["96374"], {"injection-bundled"}),                            # shared
    ("L-forearm", "R-deltoid", ["96372-XS", "96374"], set()),                                  # distinct
])
def test_an_injection_without_a_documented_site_is_a_gap_not_a_shared_site(push_site, injection_site, expected,
                                                                          findings):
    lines, result = _both(RULESET_2026, _push_and_injection(push_site, injection_site))
    assert lines == expected
    assert {f.id for f in result.findings} & {"injection-bundled", "injection-site-not-documented"} == findings


@pytest.mark.parametrize("indicator, gap", [("1", True), ("0", False)])
def test_national_pairs_name_the_missing_attribute_only_where_a_modifier_could_help(tmp_path, indicator, gap):
    folder = _folder(tmp_path, ptp=f"96369,96360,20090101,*,{indicator}\n")
    rules = folder / "ncci.rules"
    text = rules.read_text()
    hospital = text.index("ncci-ptp-hospital.csv")
    site = text.index("distinct by site: separate_site", hospital) + len("distinct by site: separate_site")
    rules.write_text(text[:site] + ", when missing finding injection-site-not-documented" + text[site:])
    lines, result = _both(folder, _hydration_beside_subq())
    assert lines == ["96369"]
    assert any(f.id == "injection-site-not-documented" for f in result.findings) == gap
    _, trace = _traced(engine.load(folder), _hydration_beside_subq())
    removed = next(r for r in trace if r.stage == "edit" and r.edit == "edit/ncci-ptp")
    assert removed.missing == (("site",) if gap else ())


def test_a_line_already_carrying_a_distinction_modifier_passes_unchanged(compiled_coder):
    """The bundled 2026 extract agrees with the hand-written injection edit: the injection it
    kept at a separate site passes the national pair as it is, not naming the edit."""
    record = {"id": "e2", "date": "2026-03-14", "claim": "facility", "pos": "23", "administrations": [
        {"id": "a1", "drug": "ondansetron", "category": "therapeutic", "route": "iv", "method": "push",
         "start": "2026-03-14T10:00", "stop": "2026-03-14T10:02", "site": "L-forearm"},
        {"id": "a2", "drug": "ketorolac", "category": "therapeutic", "route": "im", "method": "injection",
         "start": "2026-03-14T10:10", "site": "R-deltoid"}]}
    result, trace = _traced(compiled_coder, record)
    injection = next(line for line in result.lines if line.code == "96372")
    assert "XS" in injection.modifiers and "edit/ncci-ptp" not in injection.rules
    passed = [r for r in trace if r.stage == "edit" and r.edit == "edit/ncci-ptp"]
    assert [(r.action, r.modifier, r.present) for r in passed] == [("modifier", "XS", True)]


def _two_site_hydration():
    return {"id": "e3", "date": "2026-03-14", "claim": "facility", "pos": "22", "administrations": [
        {"id": f"a{i}", "drug": "normal saline", "category": "hydration", "route": "iv", "method": "infusion",
         "start": "2026-03-14T06:00", "stop": "2026-03-14T20:00", "site": site, "session": "1"}
        for i, site in ((1, "L-forearm"), (2, "R-forearm"))]}


def _units(lines):
    return sorted((line.code, tuple(line.modifiers), line.units) for line in lines)


@pytest.mark.parametrize("mai, expected", [
    ("1", [("96360", (), 1), ("96360", ("XS",), 1), ("96361", (), 10), ("96361", (), 10)]),   # each line
    ("3", [("96360", (), 1), ("96360", ("XS",), 1), ("96361", (), 7), ("96361", (), 13)]),    # the date
    ("2 Date of Service Edit: Policy", [("96360", (), 1), ("96360", ("XS",), 1), ("96361", (), 7),
                                        ("96361", (), 13)]),
])
def test_mue_adjudication_indicators(tmp_path, mai, expected):
    units = 10 if mai == "1" else 20
    folder = _folder(tmp_path, mue=f"96361,{units},{mai}\n")
    results = [engine.load(folder, engine=e).code(_two_site_hydration()) for e in ("compiled", "reference")]
    assert _units(results[0].lines) == _units(results[1].lines) == expected
    assert any(f.id == "mue-units-exceeded" for f in results[0].findings)


def test_each_claim_type_is_limited_by_its_own_mue_file(tmp_path):
    """CMS publishes MUEs per claim type: the hospital file limits facility claims, the
    practitioner file professional ones (`limit from ... where claim = ...`)."""
    folder = _folder(tmp_path, mue="96361,20,3\n", practitioner_mue="96361,5,3\n")
    coder = engine.load(folder)
    facility = coder.code(_two_site_hydration())
    professional = coder.code({**_two_site_hydration(), "claim": "professional", "pos": "11"})
    assert sum(u for c, _, u in _units(facility.lines) if c == "96361") == 20
    assert sum(u for c, _, u in _units(professional.lines) if c == "96361") == 5


def test_within_the_mue_nothing_changes(tmp_path):
    result = engine.load(_folder(tmp_path, mue="96361,26,3\n")).code(_two_site_hydration())
    assert [(c, u) for c, _, u in _units(result.lines)] == [("96360", 1), ("96360", 1), ("96361", 13), ("96361", 13)]
    assert not any(f.id == "mue-units-exceeded" for f in result.findings)


def test_the_data_bytes_are_in_the_digest_and_the_file_text_is_not_kept(tmp_path):
    folder = _folder(tmp_path)
    before = engine.load(folder).code(_hydration_beside_subq()).ruleset
    with open(folder / "data" / "mue-hospital.csv", "a") as out:
        out.write("96375,6,3\n")
    after = engine.load(folder).code(_hydration_beside_subq()).ruleset
    assert before["digest"] != after["digest"]
    from dsl.loader import load_family
    from engine.core.schema import SCHEMA
    assert not any(name.endswith(".csv") for name in load_family(folder, SCHEMA).base.texts)


def test_a_malformed_data_file_is_reported_like_any_ruleset_mistake(tmp_path):
    folder = _folder(tmp_path, ptp="96369,96360,20090101,*,1\n96369,96360,20090101,*,7\n")
    with pytest.raises(RulesetError) as raised:
        engine.load(folder)
    text = render_all(raised.value.diagnostics, raised.value.sources)
    assert "data/ncci-ptp-hospital.csv:3:24: error[E-data]: expected a modifier indicator 0, 1 or 9; got '7'" in text
    assert "96369,96360,20090101,*,7" in text  # the line, with its caret


def test_a_data_file_linked_from_outside_the_folder_is_refused_unread(tmp_path):
    folder = _folder(tmp_path)
    secret = tmp_path / "secret.csv"
    secret.write_text("TOKEN=hunter2\n")
    (folder / "data" / "mue-hospital.csv").unlink()
    os.symlink(secret, folder / "data" / "mue-hospital.csv")
    with pytest.raises(RulesetError) as raised:
        engine.load(folder)
    text = render_all(raised.value.diagnostics, raised.value.sources)
    assert "is a link to outside the ruleset folder" in text and "hunter2" not in text


def test_a_path_out_of_the_folder_and_a_missing_file_are_located(tmp_path):
    folder = _folder(tmp_path)
    rules = folder / "ncci.rules"
    rules.write_text(rules.read_text().replace('"data/mue-hospital.csv"', '"../mue.csv"')
                     .replace('"data/ncci-ptp-hospital.csv"', '"data/ncci-ptp-hospitl.csv"'))
    with pytest.raises(RulesetError) as raised:
        engine.load(folder)
    found = {(d.code, d.span.line, d.message) for d in raised.value.diagnostics}
    assert ("E-file", 17, "no data file 'data/ncci-ptp-hospitl.csv'") in found
    assert ("E-file", 25, "'../mue.csv' is outside the ruleset folder") in found
    assert next(d for d in raised.value.diagnostics
                if "ncci-ptp-hospitl.csv" in d.message).hint == "did you mean 'ncci-ptp-hospital.csv'?"


def test_data_clauses_count_per_date_or_per_encounter(tmp_path):
    folder = _folder(tmp_path)
    rules = folder / "ncci.rules"
    rules.write_text(rules.read_text().replace('"data/mue-hospital.csv" per date', '"data/mue-hospital.csv" per session'))
    with pytest.raises(RulesetError) as raised:
        engine.load(folder)
    assert any(d.code == "E-edit" and "per date (of service) or per encounter" in d.message
               for d in raised.value.diagnostics)


def test_explain_cites_the_data_row(tmp_path):
    from engine.analyst.explain import explain
    from engine.analyst.explain_text import render_text
    from engine.core.registry import Registry
    folder = _folder(tmp_path, ptp="96365,96372,20090101,*,1\n96369,96360,20090101,*,0\n", mue="96361,20,3\n")
    registry = Registry.from_path(folder)
    text = render_text(explain(registry, _hydration_beside_subq(site="R-forearm")))
    assert ("96360 for a2 removed: column 2 to 96369 (PTP row "
            f"{os.path.relpath(folder)}/data/ncci-ptp-hospital.csv:3, modifier indicator 0: "
            "never reported separately)") in text
    text = render_text(explain(registry, _two_site_hydration()))
    assert (f"96361 for a2 cut to 7 units: the medically unlikely edit at {os.path.relpath(folder)}/data/mue-hospital.csv:2 "
            "allows 20 per date of service (adjudication indicator 3)") in text
