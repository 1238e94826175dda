"""The pure parts of the language server, without a server: a folder analysed with unsaved
buffers over its files (dsl.loader overrides), the parse cache, and the index of names."""
from __future__ import annotations

import shutil

import pytest

pytest.importorskip("lsprotocol")
from dsl.diagnostics import RulesetError  # noqa: E402
from dsl.loader import load_family  # noqa: E402
from engine.core.schema import SCHEMA  # noqa: E402
from engine.lsp.workspace import analyse, ruleset_folder  # noqa: E402
from tests.conftest import ROOT  # noqa: E402


@pytest.fixture
def folder(tmp_path):
    shutil.copytree(ROOT / "rulesets" / "2026", tmp_path / "2026")
    return tmp_path / "2026"


def test_an_override_stands_in_for_the_file_on_disk_and_others_read_the_disk(folder):
    path = (folder / "thresholds.rules").resolve()
    text = path.read_text(encoding="utf-8").replace("= 15 min", "= 15", 1)
    with pytest.raises(RulesetError, match="has no unit"):
        load_family(folder, SCHEMA, overrides={path: text})
    load_family(folder, SCHEMA)  # the file itself is untouched


def test_the_parse_cache_keeps_only_the_files_as_they_are_and_reuses_them(folder):
    parsed: dict = {}
    first = analyse(folder, {}, parsed)
    assert len(parsed) == len(first.texts)
    kept = dict(parsed)
    path = (folder / "thresholds.rules").resolve()
    text = path.read_text(encoding="utf-8") + "\n# an edit\n"
    second = analyse(folder, {path: text}, parsed)
    assert len(parsed) == len(second.texts)
    changed = [key for key in parsed if key not in kept]
    assert [name for name, _ in changed] == [next(n for n in second.texts if n.endswith("thresholds.rules"))]
    assert all(parsed[key] is kept[key] for key in parsed if key in kept)


def test_a_file_that_does_not_parse_leaves_the_others_indexed(folder):
    path = (folder / "thresholds.rules").resolve()
    analysis = analyse(folder, {path: "const half = \n"})
    assert analysis.family is None
    assert [d.code for d in analysis.diagnostics[path]] == ["E-syntax"]
    assert ("finding", "missing-stop-time") in analysis.index.definitions
    assert ("const", "push_limit") not in analysis.index.definitions


def test_the_index_resolves_cells_by_their_column(folder):
    index = analyse(folder, {}).index
    assert ("value", "route", "iv") in index.references
    assert ("set", "facility_pos") in index.references
    assert ("code", "96374") in index.references
    variants = [o.file for o in index.definitions[("const", "separate_site")]]
    assert variants[0].endswith("thresholds.rules") and variants[1].endswith("payers/commercial.rules")


def test_a_payer_file_belongs_to_the_folder_above(folder):
    assert ruleset_folder((folder / "payers" / "commercial.rules").resolve()) == folder.resolve()


def test_a_quick_fix_replaces_only_the_word_the_diagnostic_marks():
    from lsprotocol import types

    from engine.lsp.diagnostics import quick_fixes

    def diagnostic(message: str, start: int, end: int) -> types.Diagnostic:
        return types.Diagnostic(types.Range(types.Position(0, start), types.Position(0, end)), message,
                                data={"replacement": "duration"})

    lines = ["  id | duraton => x"]
    marked = diagnostic("unknown column 'duraton'\ndid you mean 'duration'?", 7, 14)
    elsewhere = diagnostic("table 'service' has no row 'duraton'", 2, 4)  # marks another word
    fixes = quick_fixes("file:///x.rules", [marked, elsewhere], lines)
    assert [(f.title, f.edit.changes["file:///x.rules"][0].range) for f in fixes] == [
        ("Replace with 'duration'", marked.range)]


def test_the_finding_an_input_block_raises_for_undeclared_fields_is_a_reference(folder):
    index = analyse(folder, {}).index
    files = [o.file for o in index.references[("finding", "undeclared-field")]]
    assert len(files) == 3 and all(file.endswith("input.rules") for file in files)


def test_the_values_a_data_clause_acts_on_are_references(folder):
    index = analyse(folder, {}).index
    lines = sorted(o.line for o in index.references[("value", "claim", "facility")] if o.file.endswith("ncci.rules"))
    assert lines == [17, 25]  # pairs from ... where claim = facility, limit from ... where claim = facility
