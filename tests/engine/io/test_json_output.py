"""JSON written by orjson (engine.io.render) is what json.dumps(..., ensure_ascii=False) wrote
but for whitespace: JSON Lines have no spaces between tokens, `--format json` is the same byte
for byte. A batch's result dicts, built without Result objects (Coder.code_dict), are the
Result's as_dict(), key order included.
"""
from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings

import engine
from engine.cli import main
from engine.io.render import encodable
from tests.conftest import CASES, ROOT
from tests.strategies import encounters

_STRING_OR_SPACE = re.compile(r'("(?:[^"\\]|\\.)*")|[ \t\r\n]+')


def _without_spaces(text: str) -> str:
    """JSON `text` with the whitespace between its tokens taken out (strings kept whole)."""
    return _STRING_OR_SPACE.sub(lambda found: found[1] or "", text)


def _case_encounters() -> list[dict]:
    """The encounter of every case file here and in ../shared/cases (when present)."""
    files = sorted(CASES.glob("*.json")) + sorted((ROOT.parent / "shared" / "cases").glob("**/*.json"))
    found = [json.loads(path.read_text(encoding="utf-8")) for path in files]
    return [case["encounter"] for case in found if isinstance(case, dict) and isinstance(case.get("encounter"), dict)]


@pytest.fixture(scope="module")
def inputs() -> list[dict]:
    cases = _case_encounters()
    odd = json.loads(json.dumps(cases[0]))
    odd["id"] = "dexaméthasone \u2028 \"quoted\" \\ 💊 \x01\x1f\x7f"  # an id: results echo ids, not drugs
    surrogate = json.loads(json.dumps(cases[0]))
    surrogate["id"] = "enc-\ud800"  # echoed in the result, which UTF-8 cannot carry: written as the escape
    return [*cases, odd, surrogate]


def _run(tmp_path, inputs: list[dict], fmt: str) -> str:
    path, out = tmp_path / "in.jsonl", tmp_path / f"out.{fmt}"
    path.write_bytes(b"".join(json.dumps(e).encode() + b"\n" for e in inputs))
    assert main(["code", str(path), "--format", fmt, "--jobs", "1", "-o", str(out)]) in (0, 1)
    return out.read_bytes().decode("utf-8")


def test_json_lines_differ_from_json_dumps_only_in_whitespace(tmp_path, inputs):
    coder = engine.load()
    before = [encodable(json.dumps(coder.code(e).as_dict(), ensure_ascii=False)) for e in inputs]
    after = _run(tmp_path, inputs, "jsonl").split("\n")
    assert after[-1] == "" and len(after) == len(before) + 1
    for old, new in zip(before, after):
        assert new == _without_spaces(old)
        assert new == _without_spaces(new)  # no space between tokens at all
    assert "dexaméthasone \u2028 \\\"quoted\\\" \\\\ 💊 \\u0001\\u001f\x7f" in after[-3]  # UTF-8, escapes as before
    assert '"encounter":"enc-\\ud800"' in after[-2]


def test_indented_json_is_unchanged(tmp_path, inputs):
    coder = engine.load()
    before = "".join(encodable(json.dumps(coder.code(e).as_dict(), indent=2, ensure_ascii=False)) + "\n"
                     for e in inputs)
    assert _run(tmp_path, inputs, "json") == before


def test_error_records_too(tmp_path):
    path, out = tmp_path / "bad.jsonl", tmp_path / "out.jsonl"
    path.write_bytes(b'{"id": "e\xc3\xa9", "id": "x"}\n{"id": "caf\xc3\xa9"}\n')
    main(["code", str(path), "--jobs", "1", "-o", str(out)])
    assert out.read_text(encoding="utf-8") == (
        '{"line":1,"encounter":null,"error":{"path":"id","message":"duplicated key \'id\'"}}\n'
        '{"line":2,"encounter":"café","error":{"path":"date","message":"required field is missing"}}\n')


@settings(derandomize=True, max_examples=150, deadline=None)
@given(encounter=encounters(mixed_offsets=True))
def test_result_dicts_are_as_dict(encounter, compiled_coder, reference_coder):
    for coder in (compiled_coder, reference_coder):
        try:
            expected = coder.code(encounter).as_dict()
        except engine.EncounterError as error:
            with pytest.raises(engine.EncounterError) as again:
                coder.code_dict(encounter)
            assert (again.value.path, again.value.message) == (error.path, error.message)
            continue
        got = coder.code_dict(encounter)
        assert json.dumps(got) == json.dumps(expected)  # the same values, keys in the same order
