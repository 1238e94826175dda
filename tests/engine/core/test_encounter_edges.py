"""Encounters at the edges of time and order, and generated code across processes: times near
year one, a stop years after its start, the E/M session whatever the input order, and the
same generated source under every hash seed."""
import os
import subprocess
import sys

import pytest

from engine.core.encounter import EncounterError, parse_encounter
from tests.conftest import ROOT


def test_times_near_year_one_with_an_offset_do_not_crash(compiled_coder):
    data = {"id": "x", "date": "2026-03-01", "claim": "facility", "administrations": [
        {"id": "a", "drug": "d", "category": "therapeutic", "route": "iv", "method": "push",
         "start": "0001-01-01T00:30+05:00", "stop": "0001-01-01T00:32+05:00"}]}
    administration = parse_encounter(data, compiled_coder.registry.latest.base.input).events["administration"][0]
    assert administration.stop_s - administration.start_s == 120
    with pytest.raises(EncounterError) as error:  # given 2025 years before the rules in force
        compiled_coder.code(data)
    assert error.value.path == "administrations[0].start"


def test_a_stop_years_after_the_start_is_rejected(compiled_coder):
    data = {"id": "x", "date": "2026-03-01", "claim": "facility", "administrations": [
        {"id": "a", "drug": "d", "category": "therapeutic", "route": "iv", "method": "infusion",
         "start": "2026-03-01T10:00", "stop": "2036-03-01T10:00"}]}
    with pytest.raises(EncounterError) as error:
        compiled_coder.code(data)
    assert error.value.path == "administrations[0].stop" and "within 31 days" in error.value.message


def test_the_em_session_does_not_depend_on_input_order(compiled_coder):
    pushes = [{"id": i, "drug": d, "category": "therapeutic", "route": "iv", "method": "push",
               "start": "2026-03-01T10:00", "stop": "2026-03-01T10:01", "session": s}
              for i, d, s in (("a", "ondansetron", "s2"), ("b", "famotidine", "s1"))]
    data = {"id": "x", "date": "2026-03-01", "claim": "facility", "administrations": pushes,
            "em": [{"code": "99213", "separately_identifiable": True}]}
    flipped = dict(data, administrations=pushes[::-1])
    assert compiled_coder.code(data) == compiled_coder.code(flipped)


def test_the_bundled_rulesets_generate_the_same_code_in_every_process():
    script = ("import hashlib, engine, engine.core.compiled as compiled\n"
              "engine.load()\n"
              "sources = sorted(generated[1] for generated in compiled._GENERATED.values() if generated)\n"
              "print(hashlib.sha256(''.join(sources).encode()).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                              env=dict(os.environ, PYTHONHASHSEED=seed), check=True).stdout for seed in ("1", "2", "3")}
    assert len(digests) == 1
