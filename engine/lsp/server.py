"""`infuse lsp`: the language server, pygls wired to the pure modules beside this one.

Each open file belongs to a ruleset folder (the nearest folder above it with ruleset.rules).
An edit schedules an analysis of that folder, at once after a quiet spell, else debounced
(DEBOUNCE seconds after the last edit, while typing), with every open buffer standing in for its file on disk; the diagnostics are then
published for every file of the folder that has any, and cleared for those that had some
and have none now. A request (hover, definition, ...) on a folder with edits not yet
analysed analyses it first, so answers always match the text the editor shows.

Nothing a file says may stop the server: every handler catches what it raises, logs it
to standard error (standard output carries the protocol) and answers nothing.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import time
from importlib import metadata
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from dsl.diagnostics import RulesetError
from dsl.formatter import format_text
from dsl.parser import parse
from engine.lsp import diagnostics as lsp_diagnostics
from engine.lsp import workspace
from engine.lsp.complete import complete
from engine.lsp.hover import hover_text
from engine.lsp.positions import lines_of, position_point, utf16_column
from engine.lsp.symbols import document_symbols

DEBOUNCE = 0.15  # seconds after the last edit before a folder is analysed again
log = logging.getLogger("infuse.lsp")


def _version() -> str:
    try:
        return metadata.version("infuse")
    except metadata.PackageNotFoundError:
        return "unknown"


def guarded(handler):
    """Run a handler; log anything it raises and answer None instead."""
    if asyncio.iscoroutinefunction(handler):
        @functools.wraps(handler)
        async def wrapper(*args, **kwargs):
            try:
                return await handler(*args, **kwargs)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("infuse lsp: %s failed", handler.__name__)
                return None
        return wrapper

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except Exception:
            log.exception("infuse lsp: %s failed", handler.__name__)
            return None
    return wrapper


class InfuseServer(LanguageServer):
    """The server and what it knows of each folder: the latest analysis, the latest one
    that checked (for types, columns and thresholds while the text has errors), the files
    it published diagnostics for, and a pending analysis."""

    def __init__(self, debounce: float = DEBOUNCE):
        super().__init__("infuse", _version(), text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.debounce = debounce
        self.analyses: dict[Path, workspace.Analysis] = {}
        self.checked: dict[Path, workspace.Analysis] = {}
        self.published: dict[Path, set[str]] = {}
        self.pending: dict[Path, asyncio.Task] = {}
        self.parsed: dict[Path, dict] = {}  # per folder: (file, text) -> parsed module
        self.last: dict[Path, float] = {}  # per folder: when its latest analysis ended
        self.lone: dict[str, list] = {}  # statements of an open file outside any ruleset folder

    # ----- analysis -----------------------------------------------------------

    def overrides(self) -> dict:
        found = {}
        for document in list(self.workspace.text_documents.values()):
            path = _path(document.uri)
            if path is not None and path.suffix == ".rules":
                found[path.resolve()] = document.source
        return found

    def schedule(self, uri: str) -> None:
        folder = self.folder_of(uri)
        if folder is None:
            self.analyse_lone(uri)
        else:
            self.schedule_folder(folder)

    def schedule_folder(self, folder: Path) -> None:
        task = self.pending.pop(folder, None)
        if task is not None:
            task.cancel()
        quiet = task is None and time.monotonic() - self.last.get(folder, 0.0) > self.debounce
        self.pending[folder] = asyncio.get_running_loop().create_task(self._later(folder, 0 if quiet else self.debounce))

    async def _later(self, folder: Path, delay: float) -> None:
        """Analyse after `delay`: none for the first edit after a quiet spell, so a single
        edit is answered at once, DEBOUNCE while edits keep coming (typing)."""
        await asyncio.sleep(delay)
        self.pending.pop(folder, None)
        self.analyse(folder)

    def analyse(self, folder: Path) -> workspace.Analysis:
        """Analyse a folder now and publish its diagnostics; never raises."""
        started = time.perf_counter()
        try:
            analysis = workspace.analyse(folder, self.overrides(), self.parsed.setdefault(folder, {}))
        except Exception:
            log.exception("infuse lsp: analysing %s failed", folder)
            analysis = self.analyses.get(folder) or workspace.empty(folder)
        self.analyses[folder] = analysis
        if analysis.family is not None:
            self.checked[folder] = analysis
        try:
            self.publish(folder, analysis)
        except Exception:
            log.exception("infuse lsp: publishing diagnostics of %s failed", folder)
        self.last[folder] = time.monotonic()
        log.info("infuse lsp: analysed %s in %.0f ms", folder, 1000 * (time.perf_counter() - started))
        return analysis

    def fresh(self, uri: str) -> workspace.Analysis | None:
        """The analysis of a document's folder, analysing first when an edit is pending."""
        folder = self.folder_of(uri)
        if folder is None:
            return None
        task = self.pending.pop(folder, None)
        if task is not None:
            task.cancel()
        if task is not None or folder not in self.analyses:
            return self.analyse(folder)
        return self.analyses[folder]

    def folder_of(self, uri: str) -> Path | None:
        path = _path(uri)
        if path is None:
            return None
        folder = workspace.ruleset_folder(path.resolve())
        return folder if folder is not None and workspace.is_part_of(path, folder) else None

    def publish(self, folder: Path, analysis: workspace.Analysis) -> None:
        lines = _Lines(analysis)
        now: set[str] = set()
        for path, found in analysis.diagnostics.items():
            uri = from_fs_path(str(path))
            now.add(uri)
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=uri, diagnostics=[lsp_diagnostics.to_lsp(d, lines.of, lines.uri) for d in found]))
        for document in list(self.workspace.text_documents.values()):  # an open file without any: clean
            if self.folder_of(document.uri) == folder and _path(document.uri).resolve() not in analysis.diagnostics:
                self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=document.uri, diagnostics=[]))
        for uri in self.published.get(folder, set()) - now:
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        self.published[folder] = now

    def analyse_lone(self, uri: str) -> None:
        """A .rules file outside any ruleset folder: its syntax alone."""
        document = self.workspace.get_text_document(uri)
        found = []
        try:
            self.lone[uri] = list(parse(document.source, document.path).statements)
        except RulesetError as error:
            lines = lines_of(document.source)
            found = [lsp_diagnostics.to_lsp(d, lambda name: lines, lambda name: uri) for d in error.diagnostics]
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=found))

    # ----- answers ------------------------------------------------------------

    def located(self, uri: str, position: types.Position):
        """(analysis, span name of the file, occurrence under the cursor or None)."""
        analysis = self.fresh(uri)
        if analysis is None:
            return None, None, None
        name = analysis.span_name(_path(uri))
        if name is None:
            return analysis, None, None
        line, column = position_point(position, lines_of(analysis.texts[name]))
        return analysis, name, analysis.index.at(name, line, column)

    def locations(self, analysis: workspace.Analysis, occurrences) -> list[types.Location]:
        lines = _Lines(analysis)
        found = []
        for o in occurrences:
            text = lines.of(o.file) or []
            line = text[o.line - 1] if 0 < o.line <= len(text) else ""
            found.append(types.Location(lines.uri(o.file), types.Range(
                types.Position(o.line - 1, utf16_column(line, o.column - 1)),
                types.Position(o.line - 1, utf16_column(line, o.end_column - 1)))))
        return found


class _Lines:
    """Lines and URIs of an analysis's files by the names spans use, each split once."""

    def __init__(self, analysis: workspace.Analysis):
        self.analysis = analysis
        self.split: dict = {}

    def of(self, name: str):
        if name not in self.split:
            text = self.analysis.texts.get(name)
            self.split[name] = lines_of(text) if text is not None else None
        return self.split[name]

    def uri(self, name: str) -> str:
        return from_fs_path(str(workspace.file_path(name)))


def _path(uri: str) -> Path | None:
    path = to_fs_path(uri)
    return Path(path) if path else None


def build(debounce: float = DEBOUNCE) -> InfuseServer:
    server = InfuseServer(debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @guarded
    async def did_open(ls: InfuseServer, params: types.DidOpenTextDocumentParams):
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @guarded
    async def did_change(ls: InfuseServer, params: types.DidChangeTextDocumentParams):
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    @guarded
    async def did_save(ls: InfuseServer, params: types.DidSaveTextDocumentParams):
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @guarded
    async def did_close(ls: InfuseServer, params: types.DidCloseTextDocumentParams):
        ls.lone.pop(params.text_document.uri, None)
        if ls.folder_of(params.text_document.uri) is not None:
            ls.schedule(params.text_document.uri)  # the file on disk counts again

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @guarded
    def hover(ls: InfuseServer, params: types.HoverParams):
        analysis, name, occurrence = ls.located(params.text_document.uri, params.position)
        if occurrence is None:
            return None
        text = hover_text(occurrence, analysis, ls.checked.get(analysis.folder))
        if not text:
            return None
        location = ls.locations(analysis, [occurrence])[0]
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                           range=location.range)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @guarded
    def definition(ls: InfuseServer, params: types.DefinitionParams):
        analysis, name, occurrence = ls.located(params.text_document.uri, params.position)
        if occurrence is None:
            return None
        return ls.locations(analysis, analysis.index.definitions.get(occurrence.key, [])) or None

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    @guarded
    def references(ls: InfuseServer, params: types.ReferenceParams):
        analysis, name, occurrence = ls.located(params.text_document.uri, params.position)
        if occurrence is None:
            return None
        found = list(analysis.index.references.get(occurrence.key, []))
        if params.context.include_declaration:
            found = analysis.index.definitions.get(occurrence.key, []) + found
        return ls.locations(analysis, found)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION,
                    types.CompletionOptions(trigger_characters=["|", "[", ",", " ", "<", ">", "="]))
    @guarded
    def completion(ls: InfuseServer, params: types.CompletionParams):
        document = ls.workspace.get_text_document(params.text_document.uri)
        lines = lines_of(document.source)
        line, column = position_point(params.position, lines)
        analysis = ls.fresh(params.text_document.uri)
        if analysis is None:
            return None
        items = complete(lines, line, column, analysis, ls.checked.get(analysis.folder))
        return types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    @guarded
    def formatting(ls: InfuseServer, params: types.DocumentFormattingParams):
        document = ls.workspace.get_text_document(params.text_document.uri)
        try:
            formatted = format_text(document.source, document.path)
        except RulesetError:
            return None  # the diagnostics say why
        if formatted == document.source:
            return []
        lines = lines_of(document.source)
        end = types.Position(len(lines) - 1, utf16_column(lines[-1], len(lines[-1])))
        return [types.TextEdit(types.Range(types.Position(0, 0), end), formatted)]

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @guarded
    def symbols(ls: InfuseServer, params: types.DocumentSymbolParams):
        uri = params.text_document.uri
        if uri in ls.lone:
            return document_symbols(ls.lone[uri], lines_of(ls.workspace.get_text_document(uri).source))
        analysis = ls.fresh(uri)
        name = analysis.span_name(_path(uri)) if analysis is not None else None
        if name is None:
            return []
        return document_symbols(analysis.statements_of(name), lines_of(analysis.texts[name]))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    @guarded
    def code_action(ls: InfuseServer, params: types.CodeActionParams):
        document = ls.workspace.get_text_document(params.text_document.uri)
        return lsp_diagnostics.quick_fixes(params.text_document.uri, list(params.context.diagnostics),
                                           lines_of(document.source))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded
    async def watched(ls: InfuseServer, params: types.DidChangeWatchedFilesParams):
        """A file changed on disk (a checkout, another editor): analyse its folder again."""
        for change in params.changes:
            folder = ls.folder_of(change.uri)
            if folder is not None and folder in ls.analyses:
                ls.schedule_folder(folder)

    return server


def serve() -> None:
    """Serve over standard input and output until the client exits."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    build().start_io()
