"""The ruleset cache (dsl.cache, engine.core.registry): a hit codes as a fresh load does, with
the same digests; a changed rule file is a miss; a bad entry is rebuilt, never trusted;
writers racing on one key, an unwritable folder and a cache turned off all code correctly;
and a warm `infuse code` imports neither lark, the checker nor the analyses."""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import threading

import pytest

from dsl import cache, parser
from dsl.loader import MAX_FILE_BYTES
from engine.cli import main
from engine.core import registry as registry_module
from engine.core.coder import Coder
from engine.core.registry import Registry
from tests.conftest import CASES, ROOT, RULESET_2026
from tests.golden import load_cases

GOLDEN = load_cases(CASES)
EXAMPLE = ROOT / "examples" / "ed-visit.json"


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("INFUSE_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def ruleset(tmp_path):
    """A copy of the 2026 ruleset, free to edit."""
    return shutil.copytree(RULESET_2026, tmp_path / "2026")


def entries(folder) -> list:
    return sorted(p.name for p in folder.glob("rulesets-*.pickle")) if folder.is_dir() else []


def results(registry: Registry) -> list[str]:
    coder = Coder(registry)
    return [json.dumps(coder.code(case["encounter"]).as_dict(), sort_keys=True) for _, case in GOLDEN]


@pytest.fixture(scope="module")
def fresh_results() -> list[str]:
    return results(Registry.from_path(RULESET_2026))


def test_a_hit_codes_every_golden_case_as_a_fresh_load(cache_dir, fresh_results, monkeypatch):
    fresh = Registry.from_path(RULESET_2026)
    missed = Registry.from_path(RULESET_2026, cache=True)
    assert len(entries(cache_dir)) == 1
    monkeypatch.setattr(Registry, "_load", None)  # a hit calls no loader
    hit = Registry.from_path(RULESET_2026, cache=True)
    for loaded in (missed, hit):
        assert results(loaded) == fresh_results
        for family, expected in zip(loaded.families, fresh.families):
            for ruleset, want in zip((family.base, *family.variants.values()),
                                     (expected.base, *expected.variants.values())):
                assert ruleset == want and ruleset.digest == want.digest
                assert ruleset.texts == want.texts and ruleset.statements == want.statements
                assert ruleset.input == want.input and ruleset.schema == want.schema


def test_the_bundled_rulesets_hit_too(cache_dir, monkeypatch):
    first = Registry.from_path(None, cache=True)
    monkeypatch.setattr(Registry, "_load", None)
    assert Registry.from_path(None, cache=True) == first


def test_an_edited_rule_file_is_a_miss_and_its_rules_apply(cache_dir, ruleset):
    before = Registry.from_path(ruleset, cache=True)
    codes = ruleset / "codes.rules"
    codes.write_text(codes.read_text() + "\n# an edit\n")
    after = Registry.from_path(ruleset, cache=True)
    assert len(entries(cache_dir)) == 2
    assert after.latest.base.digest != before.latest.base.digest
    assert after.latest.base.digest == Registry.from_path(ruleset).latest.base.digest
    assert any(text.endswith("# an edit\n") for text in after.latest.texts.values())
    # a real change of the rules: the em table gains a row that takes every E/M code
    em = ruleset / "em.rules"
    assert "  em.alone    |" in em.read_text()
    em.write_text(em.read_text().replace(
        "  em.alone    |", "  em.range    | 1 .. 3               | not yes                 => yes    | 25       |\n"
                          "  em.alone    |"))
    edited = Registry.from_path(ruleset, cache=True)
    assert results(edited) == results(Registry.from_path(ruleset))
    rows = {row.id for table in edited.latest.base.stages if hasattr(table, "rows") for row in table.rows}
    assert "em.range" in rows


def test_a_linked_folder_is_keyed_on_content(cache_dir, ruleset, tmp_path):
    link = tmp_path / "linked"
    link.symlink_to(ruleset, target_is_directory=True)
    through_link = Registry.from_path(link, cache=True)
    # (the loader names a linked folder's files otherwise than the folder's own: the digest a
    # link gives differs from the folder's, cache or not; the cache keeps whichever it is)
    assert through_link.latest.base.digest == Registry.from_path(link).latest.base.digest
    assert Registry.from_path(link, cache=True) == through_link and len(entries(cache_dir)) == 1
    (ruleset / "codes.rules").write_text((ruleset / "codes.rules").read_text() + "\n# changed behind the link\n")
    again = Registry.from_path(link, cache=True)
    assert again.latest.base.digest != through_link.latest.base.digest
    assert again.latest.base.digest == Registry.from_path(link).latest.base.digest


def _corrupt(path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[:len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "random bytes":
        path.write_bytes(os.urandom(len(data)))
    elif how == "one byte flipped":
        path.write_bytes(data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:])
    elif how == "another format":
        path.write_bytes(data.replace(b"infuse-cache 1\n", b"infuse-cache 0\n", 1))
    elif how == "another key":
        _rewrite(path, lambda key, value: ("0" * 64, value))
    elif how == "a payload of another shape":
        _rewrite(path, lambda key, value: (key, ("not", "families")))
    elif how == "a payload that fails to unpickle":
        payload = b"\x80\x05\x95garbage that hashes right"
        path.write_bytes(b"infuse-cache 1\n" + hashlib.sha256(payload).digest() + payload)
    elif how == "a folder in its place":
        path.unlink()
        path.mkdir()
    else:
        raise ValueError(how)


def _rewrite(path, change) -> None:
    data = path.read_bytes()
    head = len(b"infuse-cache 1\n") + 32
    key, value = pickle.loads(data[head:])
    payload = pickle.dumps(change(key, value))
    path.write_bytes(b"infuse-cache 1\n" + hashlib.sha256(payload).digest() + payload)


CORRUPTIONS = ["truncated", "empty", "random bytes", "one byte flipped", "another format", "another key",
               "a payload of another shape", "a payload that fails to unpickle", "a folder in its place"]


@pytest.mark.parametrize("how", CORRUPTIONS)
def test_a_bad_entry_is_rebuilt_never_trusted(cache_dir, ruleset, how, fresh_results, monkeypatch):
    Registry.from_path(ruleset, cache=True)
    [name] = entries(cache_dir)
    _corrupt(cache_dir / name, how)
    calls = []
    load = Registry._load.__func__
    monkeypatch.setattr(Registry, "_load", classmethod(lambda cls, folders: calls.append(1) or load(cls, folders)))
    rebuilt = Registry.from_path(ruleset, cache=True)
    assert calls == [1]
    assert results(rebuilt) == fresh_results
    if how != "a folder in its place":  # a folder cannot be replaced by a file: the cache is just not used
        calls.clear()
        assert results(Registry.from_path(ruleset, cache=True)) == fresh_results and calls == []


def test_an_included_file_outside_the_key_is_checked_by_its_content(cache_dir, ruleset):
    base = ruleset / "ruleset.rules"
    (ruleset / "codes.rules").rename(ruleset / "codes.inc")
    base.write_text(base.read_text().replace('"codes.rules"', '"codes.inc"'))
    first = Registry.from_path(ruleset, cache=True)
    assert any(name.endswith("codes.inc") for name in first.latest.texts)
    inc = ruleset / "codes.inc"
    inc.write_text(inc.read_text() + "\n# changed, though no .rules file did\n")
    again = Registry.from_path(ruleset, cache=True)
    assert again.latest.base.digest != first.latest.base.digest
    assert again.latest.base.digest == Registry.from_path(ruleset).latest.base.digest


def test_a_folder_that_cannot_be_keyed_loads_without_the_cache(cache_dir, ruleset, fresh_results, monkeypatch):
    (ruleset / "unused.rules").write_bytes(b"#" * (MAX_FILE_BYTES + 1))  # too large to read; included nowhere
    assert results(Registry.from_path(ruleset, cache=True)) == fresh_results
    (ruleset / "unused.rules").unlink()

    def unreadable(folders):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(registry_module, "_cache_key", unreadable)
    assert results(Registry.from_path(ruleset, cache=True)) == fresh_results
    assert entries(cache_dir) == []


def test_a_ruleset_with_errors_is_not_cached(cache_dir, ruleset):
    (ruleset / "codes.rules").write_text("this is not a rule\n")
    for _ in range(2):
        with pytest.raises(Exception) as raised:
            Registry.from_path(ruleset, cache=True)
        assert "RulesetError" in type(raised.value).__name__
    assert entries(cache_dir) == []


def test_threads_loading_at_once_each_load_correctly(cache_dir, ruleset, fresh_results):
    loaded, errors = [], []

    def load():
        try:
            loaded.append(Registry.from_path(ruleset, cache=True))
        except Exception as error:  # noqa: BLE001 -- reported below
            errors.append(error)

    threads = [threading.Thread(target=load) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(loaded) == 6
    assert all(results(registry) == fresh_results for registry in loaded[:2])
    assert all(registry == loaded[0] for registry in loaded)
    assert len(entries(cache_dir)) == 1 and not list(cache_dir.glob(".tmp-*"))
    assert results(Registry.from_path(ruleset, cache=True)) == fresh_results


def _infuse(*args, env=None, **kwargs):
    return subprocess.Popen([sys.executable, "-c", "import sys; from engine.cli import run; sys.argv[0] = 'infuse'; run()",
                             *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def test_two_processes_loading_at_once_each_code_correctly(cache_dir):
    expected = subprocess.run([sys.executable, "-c", "import sys; from engine.cli import run; sys.argv[0] = 'infuse'; run()",
                               "code", str(EXAMPLE), "--format", "json", "--no-cache"], cwd=ROOT,
                              capture_output=True, check=True).stdout
    env = {**os.environ, "INFUSE_CACHE_DIR": str(cache_dir)}
    for _ in range(2):  # both miss on an empty cache; then both hit
        running = [_infuse("code", str(EXAMPLE), "--format", "json", env=env) for _ in range(2)]
        for process in running:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            assert out == expected
    assert len(entries(cache_dir)) == 1 and not list(cache_dir.glob(".tmp-*"))


@pytest.mark.parametrize("where", ["a file", "below a file"])
def test_an_unwritable_cache_folder_codes_correctly(tmp_path, monkeypatch, ruleset, fresh_results, where):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache would go")
    folder = blocker if where == "a file" else blocker / "cache"
    monkeypatch.setenv("INFUSE_CACHE_DIR", str(folder))
    parser._lark.cache_clear()
    try:
        assert results(Registry.from_path(ruleset, cache=True)) == fresh_results
    finally:
        parser._lark.cache_clear()
    assert blocker.read_text() == "a file where the cache would go"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes to a read-only folder")
def test_a_read_only_cache_folder_codes_correctly(cache_dir, ruleset, fresh_results):
    cache_dir.mkdir(mode=0o500)
    try:
        assert results(Registry.from_path(ruleset, cache=True)) == fresh_results
        assert list(cache_dir.iterdir()) == []
    finally:
        cache_dir.chmod(0o700)


def test_off_writes_nothing(tmp_path, monkeypatch, ruleset, fresh_results, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("INFUSE_CACHE_DIR", "off")
    assert cache.directory() is None
    parser._lark.cache_clear()
    try:
        assert results(Registry.from_path(ruleset, cache=True)) == fresh_results
        assert main(["code", str(EXAMPLE), "--ruleset", str(ruleset), "--format", "json"]) == 0
    finally:
        parser._lark.cache_clear()
    assert not home.exists()


def test_no_cache_writes_nothing(cache_dir, ruleset, capsys):
    assert main(["code", str(EXAMPLE), "--ruleset", str(ruleset), "--format", "json", "--no-cache"]) == 0
    assert entries(cache_dir) == []
    assert main(["code", str(EXAMPLE), "--ruleset", str(ruleset), "--format", "json"]) == 0
    assert len(entries(cache_dir)) == 1


def test_the_default_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("INFUSE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.directory() == tmp_path / "xdg" / "infuse"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.directory() == tmp_path / "home" / ".cache" / "infuse"
    monkeypatch.setenv("INFUSE_CACHE_DIR", str(tmp_path / "mine"))
    assert cache.directory() == tmp_path / "mine"


def test_the_lark_parser_from_the_cache_parses_as_a_built_one(cache_dir):
    texts = {path: path.read_text() for path in sorted(RULESET_2026.rglob("*.rules"))}
    parser._lark.cache_clear()
    try:
        built = {path: parser.parse(text, str(path)) for path, text in texts.items()}
        [entry] = cache_dir.glob("lark-*.pickle")
        parser._lark.cache_clear()
        assert {path: parser.parse(text, str(path)) for path, text in texts.items()} == built
        with pytest.raises(Exception) as raised:  # syntax errors name the expected tokens alike
            parser.parse("ruleset x 1\ntable t\n  ???\n", "bad.rules")
        _corrupt(entry, "one byte flipped")
        parser._lark.cache_clear()
        assert {path: parser.parse(text, str(path)) for path, text in texts.items()} == built
        with pytest.raises(Exception) as again:
            parser.parse("ruleset x 1\ntable t\n  ???\n", "bad.rules")
        assert again.value.diagnostics == raised.value.diagnostics
    finally:
        parser._lark.cache_clear()


HEAVY = ("lark", "dsl.parser", "dsl.checker", "engine.analyst", "pyarrow", "engine.cli.check", "engine.cli.diff",
         "engine.cli.explain", "engine.cli.test", "engine.cli.fmt", "engine.cli.table", "engine.cli.export",
         "engine.cli.new_year", "engine.cli.columns", "engine.cli.schema", "importlib.metadata",
         "engine.core.trace", "difflib", "socket", "tempfile")  # the last four: only for a trace, a mistake, a file written

PROBE = """
import sys
from engine.cli.main import main
status = main(["code", sys.argv[1], "--format", "json"])
with open(sys.argv[2], "w") as out:
    out.write("\\n".join(sorted(sys.modules)))
sys.exit(status)
"""


def test_a_warm_infuse_code_imports_no_parser_checker_or_analyses(cache_dir, tmp_path):
    env = {**os.environ, "INFUSE_CACHE_DIR": str(cache_dir)}
    listing = tmp_path / "modules.txt"
    for run in ("miss", "hit"):
        done = subprocess.run([sys.executable, "-c", PROBE, str(EXAMPLE), str(listing)], cwd=ROOT, env=env,
                              capture_output=True)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["lines"]
    imported = set(listing.read_text().split("\n"))
    heavy = sorted(m for m in imported if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == [], heavy
    assert "engine.cli.code" in imported


def test_a_changed_data_file_is_not_taken_from_the_cache(cache_dir, ruleset):
    """National edit data is not a .rules file: a new quarter's file under the same name is
    checked by its bytes, so the entry of the last quarter is not taken."""
    before = Registry.from_path(ruleset, cache=True)
    assert Registry.from_path(ruleset, cache=True).latest.base.digest == before.latest.base.digest  # a hit
    mue = ruleset / "data" / "mue-hospital.csv"
    mue.write_text(mue.read_text().replace("96361,24,", "96361,8,"))
    after = Registry.from_path(ruleset, cache=True)
    assert after.latest.base.digest != before.latest.base.digest
    assert after.latest.base.digest == Registry.from_path(ruleset).latest.base.digest
    limits = next(clause.table for stage in after.latest.base.stages for clause in getattr(stage, "clauses", ())
                  if getattr(clause, "path", None) == "data/mue-hospital.csv")
    assert limits.by_code["96361"][1] == 8
