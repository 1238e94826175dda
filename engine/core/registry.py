"""Rulesets by date of service and payer.

A registry holds every ruleset family under a folder (one folder per year, each
with its base and payer variants) and picks the one effective on an encounter's
date, then the variant named by its payer.

Loaded with `cache=True`, the checked families are kept in the ruleset cache (dsl.cache) under
the sha256 of everything they were made from: the rule files' paths within their folder and
bytes, how the loader names the folders (spans and diagnostics show those names), the grammar,
the code that parses and checks them, and the Python that pickled them. A hit neither parses
nor checks, nor imports the parser (lark) or the checker. Rulesets with errors are never
cached: loading them again reports their diagnostics again. The national edit data files a
ruleset reads (`pairs from`, `limit from`) are not .rules files: an entry holds the sha256 of
each, and is taken only while every one still has those bytes.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import attrs

from dsl import cache as disk_cache
from dsl.checked import CheckedLimitsFrom, CheckedPairsFrom, CheckedRuleset
from dsl.loader import BASE_FILE, MAX_FILE_BYTES, RulesetFamily, load_family, ruleset_folders
from engine.core.schema import SCHEMA

_FORMAT = b"infuse rulesets 2"  # 2: entries hold the sha256 of the data files too
_DSL = Path(disk_cache.__file__).resolve().parent
_CORE = Path(__file__).resolve().parent


def bundled_root() -> Path:
    """The rulesets folder shipped with the package."""
    import rulesets

    return Path(rulesets.__file__).parent


class OverlappingRulesets(ValueError):
    """Two rulesets are effective on the same date, so a date of service could not pick one."""


@attrs.frozen
class Registry:
    families: tuple  # RulesetFamily, ordered by effective start

    @classmethod
    def from_path(cls, path: str | os.PathLike | None = None, cache: bool = False) -> "Registry":
        """Load one ruleset folder, or every year folder below a root; with `cache`, through
        the ruleset cache (see above; it may also be turned off by INFUSE_CACHE_DIR=off)."""
        root = Path(path) if path is not None else bundled_root()
        folders = ruleset_folders(root)
        if not folders:
            raise FileNotFoundError(f"no ruleset in {root} (expected {BASE_FILE} there or in its subfolders)")
        folder = disk_cache.directory() if cache else None
        if folder is None:
            return cls._load(folders)
        try:
            key, keyed = _cache_key(folders)
        except (OSError, _Uncacheable):  # the loader reports an unreadable or oversized file, if it reads it
            return cls._load(folders)
        name = f"rulesets-{key}.pickle"
        stored = disk_cache.read(folder, name, key)
        if _sound(stored):
            return cls(stored[2])
        registry = cls._load(folders)
        others = {shown: _sha256(text.encode("utf-8")) for family in registry.families
                  for shown, text in family.texts.items() if shown not in keyed}
        disk_cache.write(folder, name, key, (others, _data_files(registry.families), registry.families))
        return registry

    @classmethod
    def _load(cls, folders: list[Path]) -> "Registry":
        families = sorted((load_family(folder, SCHEMA) for folder in folders), key=lambda f: f.base.effective)
        for earlier, later in zip(families, families[1:]):
            if later.base.effective[0] <= earlier.base.effective[1]:
                raise OverlappingRulesets(f"rulesets {earlier.base.name} {earlier.base.version} and {later.base.name} "
                                 f"{later.base.version} are both effective on {later.base.effective[0]}: "
                                 "one date of service must pick one ruleset")
        return cls(tuple(families))

    def family_for(self, date: str) -> RulesetFamily | None:
        for family in self.families:
            start, end = family.base.effective
            if start <= date <= end:
                return family
        return None

    def select(self, date: str, payer: str | None) -> CheckedRuleset | None:
        family = self.family_for(date)
        return family.for_payer(payer) if family else None

    @property
    def latest(self) -> RulesetFamily:
        return self.families[-1]


class _Uncacheable(Exception):
    """A folder not worth keying: a .rules file larger than the loader reads."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _display(path: Path) -> str:
    """A path as the loader shows it (dsl.loader._display): relative to the working folder."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _code_fingerprint() -> bytes:
    """The size and modification time of every module that parses, checks or defines what is
    cached: a changed infuse (a new version, or a working copy edited) is another key."""
    sources = sorted(_DSL.rglob("*.py")) + [_CORE / "registry.py", _CORE / "schema.py"]
    parts = []
    for source in sources:
        stat = source.stat()
        parts.append(f"{source} {stat.st_size} {stat.st_mtime_ns}")
    return "\n".join(parts).encode()


def _cache_key(folders: list[Path]) -> tuple[str, set]:
    """The key of the registry of `folders`, and the shown names of the files it covers.

    Every .rules file below each folder is read through whatever links lead to it, so the
    key is the files' content, not their names or dates. A file the rules include under
    another name is checked by the content hash the entry keeps (`_sound`)."""
    digest = hashlib.sha256()

    def add(data: bytes) -> None:
        digest.update(len(data).to_bytes(8, "little") + data)

    add(_FORMAT)
    add(disk_cache.python_tag())
    add(_code_fingerprint())
    add((_DSL / "grammar.lark").read_bytes())
    keyed = set()
    for folder in folders:
        add(_display(folder).encode())
        files = sorted((p for p in folder.rglob("*.rules") if p.is_file()), key=lambda p: p.relative_to(folder).parts)
        add(str(len(files)).encode())
        for file in files:
            if file.stat().st_size > MAX_FILE_BYTES:
                raise _Uncacheable(file)
            add(file.relative_to(folder).as_posix().encode())
            add(file.read_bytes())
            keyed.add(_display(file))
    return digest.hexdigest(), keyed


def _data_files(families: tuple) -> dict:
    """The data files (`pairs from`, `limit from`) the families were checked with: shown path ->
    sha256 of their bytes, as read. A quarter's new file under the same name is another entry."""
    return {clause.table.path: clause.table.sha256 for family in families
            for ruleset in (family.base, *family.variants.values()) for stage in ruleset.stages
            for clause in getattr(stage, "clauses", ()) if isinstance(clause, (CheckedPairsFrom, CheckedLimitsFrom))
            and clause.table.sha256}


def _sound(stored) -> bool:
    """An entry of the right shape whose files outside the key still hold what they held."""
    try:
        others, data_files, families = stored
        if not isinstance(families, tuple) or not all(isinstance(f, RulesetFamily) for f in families):
            return False
        for shown, expected in others.items():
            if _sha256(Path(shown).read_text(encoding="utf-8").encode("utf-8")) != expected:
                return False
        for shown, expected in data_files.items():  # national edit data: not .rules, so not in the key
            if _sha256(Path(shown).read_bytes()) != expected:
                return False
        return True
    except Exception:  # noqa: BLE001 -- an unreadable file or an odd entry: load afresh
        return False
