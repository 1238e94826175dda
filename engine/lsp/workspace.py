"""Analyse the ruleset folder a file belongs to, with the editor's buffers over the files on disk.

The same diagnostics as `infuse check` for that folder (what the checker rejects, or when
it loads, the warnings and notes of dsl.analysis), grouped by the file each stands in, and
the index of its names. Nothing here raises: a folder that cannot be read or checked is
an analysis with diagnostics and, as far as its files parse, an index.

Example:
    analysis = analyse(Path("rulesets/2026"), {Path("/abs/service.rules"): "unsaved text"})
    analysis.diagnostics[Path("/abs/service.rules").resolve()]
"""
from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import attrs

from dsl.analysis import analyse_family, thresholds
from dsl.diagnostics import RulesetError
from dsl.loader import BASE_FILE, VARIANT_DIR, RulesetFamily, check_folder_source, read_folder
from engine.core.schema import SCHEMA
from engine.lsp import index as index_module

MAX_FOLDER_DEPTH = 4  # how far above a file its ruleset.rules may be (payers/, a tests folder)


@attrs.frozen
class Analysis:
    """One analysis of a folder: diagnostics by resolved file path, the file texts by the
    names spans use, every statement read, the checked family (None when it does not check)
    and the index."""

    folder: Path
    diagnostics: dict
    texts: dict
    statements: list
    family: RulesetFamily | None
    index: index_module.Index

    def file_path(self, name: str) -> Path:
        return file_path(name)

    def span_name(self, path: Path) -> str | None:
        """The name spans use for a file of the folder, or None when it was not read."""
        resolved = path.resolve()
        return next((name for name in self.texts if file_path(name) == resolved), None)

    def statements_of(self, name: str) -> list:
        return [node for node in self.statements if node.span.file == name]

    def thresholds(self) -> dict:
        """Constant name -> the rules it splits, in the base and every variant ("payer: uses")."""
        if self.family is None:
            return {}
        found: dict = defaultdict(list)
        for payer, ruleset in (("", self.family.base), *sorted(self.family.variants.items())):
            for threshold in thresholds(ruleset):
                if threshold.constant:
                    found[threshold.name].append((payer, threshold.uses))
        return dict(found)


def file_path(name: str) -> Path:
    """The resolved path of a file as a span names it (relative to the working folder)."""
    return Path(os.path.abspath(name)).resolve()


def ruleset_folder(path: Path) -> Path | None:
    """The ruleset folder a file belongs to: the nearest folder above it holding ruleset.rules."""
    for folder in [path.parent, *path.parent.parents][:MAX_FOLDER_DEPTH]:
        if (folder / BASE_FILE).is_file():
            return folder
    return None


def is_part_of(path: Path, folder: Path) -> bool:
    """Whether a .rules file is one the folder reads: the base's includes or a variant."""
    path = path.resolve()
    return path.suffix == ".rules" and (path.parent == folder.resolve()
                                         or path.parent == (folder / VARIANT_DIR).resolve())


def analyse(folder: Path, overrides: dict, parsed: dict | None = None) -> Analysis:
    """Read, check and analyse `folder` with `overrides` (resolved path -> text). `parsed`
    keeps the files parsed by one analysis for the next (dsl.loader.read_folder); it is left
    holding only the files this analysis read, as they are now."""
    source = read_folder(folder, overrides, parsed)
    if parsed is not None:
        for key in [key for key in parsed if source.texts.get(key[0]) != key[1]]:
            del parsed[key]
    statements = [*source.base, *(node for listed in source.variants.values() for node in listed)]
    family = None
    try:
        family = check_folder_source(source, folder, SCHEMA)
        found = list(analyse_family(family).diagnostics)
    except RulesetError as error:
        found = list(error.diagnostics)
    by_file: dict = defaultdict(list)
    for diagnostic in found:
        by_file[file_path(diagnostic.span.file) if diagnostic.span.line > 0 else folder.resolve() / BASE_FILE] \
            .append(diagnostic)
    return Analysis(folder, dict(by_file), dict(source.texts), statements, family, index_module.build(statements))


def empty(folder: Path) -> Analysis:
    return Analysis(folder, {}, {}, [], None, index_module.build([]))

