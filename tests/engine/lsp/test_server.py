"""The language server driven over stdio as an editor drives it (pytest-lsp): a copy of
rulesets/2026 is opened in a temporary folder and edited in unsaved buffers."""
from __future__ import annotations

import asyncio
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

from tests.conftest import ROOT  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="function")

SERVER = [sys.executable, "-c", "import sys; from engine.cli.main import main; sys.exit(main(['lsp']))"]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, request):
    folder = request.getfixturevalue("tmp_path") / "2026"
    shutil.copytree(ROOT / "rulesets" / "2026", folder)
    lsp_client.folder = folder
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=folder.as_uri()))
    yield
    await lsp_client.shutdown_session()


def uri(client, name: str) -> str:
    return (client.folder / name).as_uri()


def open_file(client, name: str, text: str | None = None) -> str:
    """Open a file of the folder, its text as on disk or `text` (unsaved)."""
    path = client.folder / name
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=path.as_uri(), language_id="infuse", version=1,
        text=path.read_text(encoding="utf-8") if text is None else text)))
    return path.as_uri()


def change(client, target: str, text: str, version: int) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=target, version=version),
        [types.TextDocumentContentChangeWholeDocument(text=text)]))


async def diagnostics(client, target: str, wanted=lambda found: True, timeout: float = 15) -> list:
    """The diagnostics published for `target` once they satisfy `wanted`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.diagnostics.get(target)
        if found is not None and wanted(found):
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"no such diagnostics for {target}: {client.diagnostics.get(target)}")


def find(text: str, needle: str, occurrence: int = 1) -> types.Position:
    """The position of the n-th occurrence of `needle` (ASCII text: UTF-16 = code points)."""
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at)
    return types.Position(line, at - (text.rfind("\n", 0, at) + 1))


async def test_a_typo_is_an_error_at_its_word_with_a_quick_fix(client):
    text = (client.folder / "service.rules").read_text(encoding="utf-8").replace("| duration ", "| duraton  ", 1)
    target = open_file(client, "service.rules", text)
    found = await diagnostics(client, target, lambda found: any(d.code == "E-name" for d in found))
    error = next(d for d in found if d.code == "E-name")
    start = find(text, "duraton")
    assert error.range == types.Range(start, types.Position(start.line, start.character + len("duraton")))
    assert error.severity == types.DiagnosticSeverity.Error
    assert "unknown column 'duraton'" in error.message and "did you mean 'duration'?" in error.message
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(target), error.range, types.CodeActionContext(diagnostics=[error])))
    assert [a.title for a in actions] == ["Replace with 'duration'"]
    assert actions[0].edit.changes[target][0].new_text == "duration"
    change(client, target, text.replace("| duraton  ", "| duration ", 1), 2)  # fixed: cleared
    await diagnostics(client, target, lambda found: not any(d.severity == 1 for d in found))


async def test_a_unitless_constant_is_an_error_with_its_uses_in_other_files(client):
    path = client.folder / "thresholds.rules"
    text = path.read_text(encoding="utf-8").replace("const push_limit = 15 min", "const push_limit = 15", 1)
    target = open_file(client, "thresholds.rules", text)
    found = await diagnostics(client, target, lambda found: any(d.code == "E-type" for d in found))
    error = next(d for d in found if d.code == "E-type")
    start = find(text, "= 15")
    assert error.range == types.Range(types.Position(start.line, start.character + 2),
                                      types.Position(start.line, start.character + 4))
    assert "has no unit" in error.message and "write '15 min' or '15 h'" in error.message
    related = error.related_information
    assert related and all(r.location.uri == uri(client, "service.rules") for r in related)
    service = (client.folder / "service.rules").read_text(encoding="utf-8")
    first = find(service, "> push_limit")
    assert related[0].location.range.start == types.Position(first.line, first.character + 2)


async def test_hover_on_a_constant_shows_its_value_doc_sources_and_rows(client):
    target = open_file(client, "service.rules")
    text = (client.folder / "service.rules").read_text(encoding="utf-8")
    at = find(text, "push_limit")
    hover = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(target), at))
    shown = hover.contents.value
    assert "**const push_limit** = `15 min`" in shown
    assert "reported as a push" in shown  # the doc string
    assert "`cms-230`: Medicare Claims Processing Manual" in shown
    assert "service/chemo.infusion" in shown


async def test_hover_on_a_column_a_code_and_a_finding(client):
    target = open_file(client, "service.rules")
    text = (client.folder / "service.rules").read_text(encoding="utf-8")
    header = find(text, "| route ")
    column = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(target), types.Position(header.line, header.character + 2)))
    assert "**column route**" in column.contents.value and "input.rules" in column.contents.value
    finding = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(target), find(text, "missing-stop-time")))
    assert "(warning)" in finding.contents.value and "No stop time is documented" in finding.contents.value


async def test_hover_on_the_finding_a_distinction_raises_when_missing(client):
    target = open_file(client, "edits.rules")
    text = (client.folder / "edits.rules").read_text(encoding="utf-8")
    finding = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(target), find(text, "injection-site-not-documented")))
    assert "(warning)" in finding.contents.value and "is not documented" in finding.contents.value


async def test_definition_of_a_constant_is_in_another_file(client):
    target = open_file(client, "service.rules")
    text = (client.folder / "service.rules").read_text(encoding="utf-8")
    found = await client.text_document_definition_async(types.DefinitionParams(
        types.TextDocumentIdentifier(target), find(text, "push_limit")))
    thresholds = (client.folder / "thresholds.rules").read_text(encoding="utf-8")
    at = find(thresholds, "push_limit")
    assert [(f.uri, f.range.start) for f in found] == [(uri(client, "thresholds.rules"), at)]


async def test_an_amended_row_goes_to_its_base_row_and_references_list_uses(client):
    target = open_file(client, "payers/commercial.rules")
    text = (client.folder / "payers/commercial.rules").read_text(encoding="utf-8")
    at = find(text, "push.repeat.professional ")
    found = await client.text_document_definition_async(types.DefinitionParams(
        types.TextDocumentIdentifier(target), at))
    assert [f.uri for f in found] == [uri(client, "coding.rules")]
    thresholds = open_file(client, "thresholds.rules")
    references = await client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(thresholds),
        position=find((client.folder / "thresholds.rules").read_text(encoding="utf-8"), "push_limit"),
        context=types.ReferenceContext(include_declaration=False)))
    assert {r.uri for r in references} == {uri(client, "service.rules")} and len(references) == 4


async def test_completion_of_a_vocabulary_value_a_constant_and_a_source(client):
    text = (client.folder / "service.rules").read_text(encoding="utf-8")
    row = find(text, "chemo.infusion ")
    line = text.split("\n")[row.line]
    route = line.index("| iv") + 2  # the route cell
    edited = text.split("\n")
    edited[row.line] = line[:route] + "i " + line[route + 2:]
    target = open_file(client, "service.rules", "\n".join(edited))
    items = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(target), types.Position(row.line, route + 1)))
    labels = {i.label for i in items.items}
    assert {"iv", "im", "subq", "intra_arterial"} <= labels and "chemotherapy" not in labels
    bound = line.index("> push_limit") + 2
    items = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(target), types.Position(row.line, bound)))
    assert "push_limit" in {i.label for i in items.items}
    refs = text.split("\n")[0:1]
    table_line = find(text, "[cpt")
    items = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(target), types.Position(table_line.line, table_line.character + 1)))
    assert {"cpt", "cms-230"} <= {i.label for i in items.items}
    assert refs  # the file has lines
    header = find(text, "| route ")
    items = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(target), types.Position(header.line, header.character + 3)))
    columns = {i.label: i for i in items.items}
    assert {"route", "duration", "gap", "finding"} <= set(columns) and "push_limit" not in columns
    assert "time since the previous administration" in columns["gap"].documentation


async def test_formatting_aligns_a_table(client):
    text = (client.folder / "service.rules").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if "| chemotherapy |" in line)  # a table row, its cells padded
    messy = text.replace(row, re.sub(r" *\| *", "|", row), 1)
    assert messy != text
    target = open_file(client, "service.rules", messy)
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        types.TextDocumentIdentifier(target), types.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert len(edits) == 1 and edits[0].new_text == text
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(
        types.TextDocumentIdentifier(target)))
    table = next(s for s in symbols if s.name == "service")
    assert "chemo.infusion" in {row.name for row in table.children}


async def test_a_half_typed_file_gives_diagnostics_and_the_server_keeps_answering(client):
    path = client.folder / "thresholds.rules"
    text = path.read_text(encoding="utf-8")
    target = open_file(client, "thresholds.rules", text + "\nconst half = \ntable x first per\n  id | \u00e9\ud83d\ude00 |")
    found = await diagnostics(client, target, lambda found: any(d.code == "E-syntax" for d in found))
    assert found[0].range.start.line >= text.count("\n")
    for version, cut in enumerate(range(len(text) - 1, len(text) - 400, -37), start=2):  # typing, backwards
        change(client, target, text[:cut], version)
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(target), find(text, "push_limit")))
    assert hover is None or "push_limit" in hover.contents.value
    change(client, target, text, 100)
    await diagnostics(client, target, lambda found: not any(d.severity == 1 for d in found))
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(
        types.TextDocumentIdentifier(target)))
    assert "push_limit" in {s.name for s in symbols}


def _rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's RSS from /proc")
async def test_a_thousand_edits_keep_memory_flat(client):
    """1,000 edits, each analysed in full every 50th edit (else debounced): the server's
    resident memory grows by less than 50 MB (generous: a leak of one analysis per edit,
    some MB each, would pass it many times over)."""
    path = client.folder / "service.rules"
    text = path.read_text(encoding="utf-8")
    target = open_file(client, "service.rules", text)
    await diagnostics(client, target)
    pid = client._server.pid
    before = _rss_kb(pid)
    for version in range(2, 1002):
        edited = text.replace("> push_limit", f"> {version % 7} min" if version % 2 else "> push_limit", 1)
        change(client, target, edited, version)
        if version % 50 == 0:
            await client.text_document_hover_async(types.HoverParams(  # analyses the pending edit first
                types.TextDocumentIdentifier(target), find(text, "push_limit")))
    await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(target), types.Position(0, 0)))
    growth = (_rss_kb(pid) - before) / 1024
    print(f"server RSS grew {growth:.1f} MB over 1,000 edits")
    assert growth < 50, f"RSS grew {growth:.1f} MB over 1,000 edits"
