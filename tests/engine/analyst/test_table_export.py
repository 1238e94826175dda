"""`infuse table`: the decision tables as written, in markdown, CSV and one self-contained HTML page."""
from __future__ import annotations

import csv
import html.parser
import io
import shutil
from pathlib import Path

import pytest

from dsl.checked import CheckedTable
from engine.cli import main
from engine.core.registry import Registry
from engine.analyst.tables import render, written_tables
from tests.conftest import ROOT, ruleset_with_range_row


@pytest.fixture(scope="module")
def family():
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        yield Registry.from_path(Path("rulesets/2026")).families[0]


def tables_of(ruleset) -> list[CheckedTable]:
    return [s for s in ruleset.stages if isinstance(s, CheckedTable)]


def test_cells_are_shown_as_written_with_constants_and_sets(family):
    tables = {t.name: t for t in written_tables(family.base)}
    service = {row.id: row for row in tables["service"].rows}
    cells = {c.column: c.text for c in service["infusion"].inputs}
    assert cells == {"claim": "*", "pos": "*", "category": "*", "route": "iv", "method": "infusion",
                     "hormonal": "*", "pump": "*", "integral_to": "*", "purpose": "*", "lesions": "*",
                     "duration": "> push_limit (15 min)"}
    assert service["infusion"].location == "rulesets/2026/service.rules:31"
    assert {c.column: c.text for c in service["setting.professional-facility"].inputs}["pos"] == \
        "facility_pos (19, 21, 22, 23, 24, 26, 51, 52, 61)"
    assert {c.column: c.text for c in service["chemo.hormonal"].inputs}["hormonal"] == "yes"
    assert {c.column: c.text for c in service["hydration.no-stop"].inputs}["duration"] == "unknown"
    assert {c.column: c.text for c in service["hydration.no-stop"].outputs}["finding"] == \
        "missing-stop-time, hydration-not-reportable"
    documentation = {row.id: row for row in tables["documentation"].rows}
    assert documentation["doc.dose"].inputs[0].text == "missing"
    coding = {row.id: row for row in tables["coding"].rows}
    assert {c.column: c.text for c in coding["push.repeat.too-soon"].inputs}["gap"] == "<= repeat_push_gap (30 min)"
    pump = {c.column: c.text for c in service["chemo.pump"].inputs}
    assert (pump["pump"], pump["duration"]) == ("yes", "> prolonged_chemo (8 h)")
    assert {c.column: c.text for c in coding["push.repeat.too-soon"].outputs}["code"] == "-"
    site = {c.column: c.text for c in tables["modifiers"].rows[1].outputs}
    assert (site["modifier"], site["finding"]) == ("separate_site (XS)", "second-access-site")


def test_every_table_and_row_is_exported_with_its_citations(family):
    written = written_tables(family.base)
    checked = tables_of(family.base)
    assert [t.name for t in written] == [t.name for t in checked]
    for w, c in zip(written, checked):
        assert [r.id for r in w.rows] == [r.id for r in c.rows]
        assert w.policy == c.policy and w.scope == c.scope and w.doc == c.doc
        assert [ref for ref, _ in w.citations] == list(dict.fromkeys(c.refs))
        assert all(text == family.base.sources[ref] for ref, text in w.citations)


def test_a_payer_variant_shows_its_amended_rows_and_constants(family):
    commercial = {t.name: t for t in written_tables(family.variants["commercial"])}
    row = next(r for r in commercial["coding"].rows if r.id == "push.repeat.professional")
    assert row.location == "rulesets/2026/payers/commercial.rules:19"
    outputs = {c.column: c.text for c in row.outputs}
    assert outputs["code"] == "96374" and outputs["modifier"] == "76"
    inputs = {c.column: c.text for c in row.inputs}
    assert (inputs["gap"], inputs["repeats"]) == ("*", "initial")
    assert {c.column: c.text for c in commercial["modifiers"].rows[1].outputs}["modifier"] == "separate_site (59)"
    assert ("payer-policy", family.variants["commercial"].sources["payer-policy"]) in commercial["coding"].citations


def test_an_amended_row_shows_the_base_cells_its_amend_keeps(tmp_path, monkeypatch):
    """An amend that replaces a row lists only the cells it changes; the others stay the base
    row's, and are shown as the base writes them, not as `*`."""
    folder = tmp_path / "2026"
    shutil.copytree(ROOT / "rulesets" / "2026", folder)
    with open(folder / "payers" / "commercial.rules", "a", encoding="utf-8") as variant:
        variant.write("\namend table service [payer-policy]\n"
                      "  id             | duration => service\n"
                      "  chemo.infusion | > 20 min => chemo_infusion\n")
    monkeypatch.chdir(tmp_path)
    ruleset = Registry.from_path(Path("2026")).families[0].variants["commercial"]
    service = next(t for t in written_tables(ruleset) if t.name == "service")
    row = next(r for r in service.rows if r.id == "chemo.infusion")
    cells = {c.column: c.text for c in row.inputs}
    assert (cells["category"], cells["route"], cells["method"], cells["duration"]) == (
        "chemotherapy", "iv", "infusion", "> 20 min")
    assert row.location == "2026/payers/commercial.rules:24"


def test_markdown(family):
    text = render([(family.base, written_tables(family.base))], "markdown")
    assert text.startswith("# Decision tables of drug-administration 2026.1")
    for table in tables_of(family.base):
        assert f"\n## {table.name}\n" in text
    assert ("| id | claim | pos | category | route | method | hormonal | pump | integral_to | purpose | lesions "
            "| duration | => service | finding | location |") in text
    assert ("| infusion | * | * | * | iv | infusion | * | * | * | * | * | > push_limit (15 min) | infusion |  | "
            "rulesets/2026/service.rules:31 |") in text
    assert "- noridian-hydration: Noridian JE Part A: Hydration," in text
    lines = text.splitlines()
    rows = [line for line in lines if line.startswith("| ")]
    assert len(rows) == sum(len(t.rows) + 1 for t in tables_of(family.base))
    for index, line in enumerate(lines):
        if line.startswith("|---"):
            assert line.count("|") == lines[index - 1].count("|") == lines[index + 1].count("|")


def test_csv(family):
    text = render([(family.base, written_tables(family.base))], "csv")
    records = list(csv.reader(io.StringIO(text)))
    assert records[0][0] == "ruleset" and records[0][1].startswith("drug-administration 2026.1")
    blocks = [i for i, r in enumerate(records) if r[:1] == ["table"]]
    assert [records[i][1] for i in blocks] == [t.name for t in tables_of(family.base)]
    for start, table in zip(blocks, tables_of(family.base)):
        assert records[start + 1] == ["doc", table.doc]
        assert records[start + 2][0] == "sources" and len(records[start + 2]) == 1 + len(set(table.refs))
        header = records[start + 3]
        assert header == ["id", *table.inputs, "=>", *table.outputs, "location"]
        rows = records[start + 4:start + 4 + len(table.rows)]
        assert [r[0] for r in rows] == [r.id for r in table.rows]
        assert all(len(r) == len(header) for r in rows)
        assert records[start + 4 + len(table.rows)] == []
    service = dict(zip(records[blocks[1] + 3], next(r for r in records if r[:1] == ["chemo.infusion"])))
    assert service["duration"] == "> push_limit (15 min)" and service["service"] == "chemo_infusion"


class _Page(html.parser.HTMLParser):
    """Collects tags, checks nesting of the elements the page closes, and keeps the text."""

    VOID = {"meta", "br", "hr", "img", "link", "input"}

    def __init__(self):
        super().__init__()
        self.open, self.tags, self.text, self.errors = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open.pop() != tag:
            self.errors.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_one_self_contained_page(family):
    text = render([(family.base, written_tables(family.base))], "html")
    page = _Page()
    page.feed(text)
    page.close()
    assert page.errors == [] and page.open == []
    names = [tag for tag, _ in page.tags]
    assert "script" not in names and "link" not in names and "iframe" not in names
    assert names.count("style") == 1
    assert not any(key in ("src", "href") and not value.startswith("#") for _, attrs in page.tags
                   for key, value in attrs.items())
    assert names.count("tr") == sum(len(t.rows) + 1 for t in tables_of(family.base))
    body = "".join(page.text)
    assert "> push_limit (15 min)" in body and "rulesets/2026/service.rules:22" in body
    assert 'id="drug-administration-2026.1-service-infusion"' in text


def _hostile_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "2026"
    shutil.copytree(ROOT / "rulesets" / "2026", copy)
    service = copy / "service.rules"
    service.write_text(service.read_text().replace(
        '"Push or infusion by documented time,', '"<script>alert(1)</script> | & Push or infusion by documented time,'))
    sources = copy / "sources.rules"
    sources.write_text(sources.read_text().replace('source cpt "AMA', 'source cpt "<img src=x onerror=alert(2)> AMA'))
    return copy


def test_ruleset_text_is_escaped_everywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ruleset = Registry.from_path(Path(_hostile_copy(tmp_path).name)).families[0].base
    documents = [(ruleset, written_tables(ruleset))]
    page = render(documents, "html")
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; | &amp; Push" in page
    assert "&lt;img src=x onerror=alert(2)&gt; AMA" in page
    markdown = render(documents, "markdown")
    assert "<script>" not in markdown and "<img" not in markdown
    assert "&lt;script>alert(1)&lt;/script> \\| & Push" in markdown
    rows = list(csv.reader(io.StringIO(render(documents, "csv"))))
    assert ["doc", "<script>alert(1)</script> | & Push or infusion by documented time, chemotherapy apart, "
                   "and nothing on a practitioner's claim in a facility; nothing for a drug that is an inherent part of "
                   "another procedure or a fluid that is not hydration; intralesional chemotherapy by its lesions, "
                   "and an unlisted code for a method no listed code describes."] in rows


def test_ranges_and_negations_are_shown_as_written(tmp_path, monkeypatch):
    ruleset_with_range_row(tmp_path)
    monkeypatch.chdir(tmp_path)
    ruleset = Registry.from_path(Path("2026")).families[0].base
    row = next(t for t in written_tables(ruleset) if t.name == "em").rows[0]
    assert (row.id, [c.text for c in row.inputs], [c.text for c in row.outputs]) == (
        "em.range", ["1 .. 3", "not yes"], ["yes", "25", ""])


def test_tables_quote_the_text_that_was_checked(tmp_path, monkeypatch):
    copy = tmp_path / "2026"
    shutil.copytree(ROOT / "rulesets" / "2026", copy)
    monkeypatch.chdir(tmp_path)
    ruleset = Registry.from_path(Path("2026")).families[0].base
    before = written_tables(ruleset)
    (copy / "coding.rules").write_text("\n" + (copy / "coding.rules").read_text())
    monkeypatch.chdir(ROOT)
    assert written_tables(ruleset) == before


# ----- the command line -----

@pytest.mark.parametrize("fmt,start", [("markdown", "# Decision tables"), ("csv", "ruleset,"),
                                       ("html", "<!DOCTYPE html>")])
def test_cli_formats(fmt, start, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["table", "rulesets/2026", "--format", fmt]) == 0
    assert capsys.readouterr().out.startswith(start)


def test_cli_writes_a_file_for_a_payer(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "tables.html"
    assert main(["table", "rulesets/2026", "--format", "html", "--payer", "medicare", "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    page = out.read_text(encoding="utf-8")
    assert "drug-administration-medicare 2026.1, payer medicare" in page
    assert "rulesets/2026/payers/medicare.rules:14" in page


def test_cli_refuses_an_unknown_payer_or_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["table", "rulesets/2026", "--payer", "acme"]) == 2
    assert "known: commercial, horizon, medicare, regence" in capsys.readouterr().err
    assert main(["table", str(tmp_path)]) == 2
    assert main(["table", "rulesets/2026", "-o", str(tmp_path / "no" / "such" / "dir.md")]) == 2
