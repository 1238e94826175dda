"""An error record names its encounter by the field the ruleset declares as the encounter's
id, whatever its name (dsl.checked.CheckedInput.id_field), and the cluster engines key their
output rows by that field unless told another: here a toy ruleset calls it `visit`."""
from __future__ import annotations

import pytest

import engine
from engine.io.batch import code_record
from tests.declared import INPUT
from tests.engine.core.test_pipeline_stages import RULESET

pa = pytest.importorskip("pyarrow")

VISIT_INPUT = INPUT.replace("encounter [cpt]\n  field id: text, required, unique\n",
                            "encounter [cpt]\n  field visit: text, required, unique\n")
GOOD = (b'{"visit": "v1", "id": "other", "date": "2030-05-01", "claim": "north", "administrations": ['
        b'{"id": "x1", "drug": "d", "category": "red", "route": "a", "method": "slow",'
        b' "start": "2030-05-01T09:00", "stop": "2030-05-01T09:30"}]}')


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("visit")
    (folder / "input.rules").write_text(VISIT_INPUT)
    (folder / "ruleset.rules").write_text(f'{RULESET}\nsource cpt "CPT"\ninclude "input.rules"\n')
    return folder


@pytest.fixture(scope="module")
def coder(folder):
    assert VISIT_INPUT != INPUT
    return engine.load(folder)


def test_a_valid_record_is_coded(coder):
    assert "error" not in code_record(coder, 1, GOOD)


@pytest.mark.parametrize("raw,encounter,path", [
    (GOOD.replace(b'"claim": "north"', b'"claim": "north", "claim": "south"'), "v1", "claim"),  # decoding
    (GOOD.replace(b'"north"', b'"west"'), "v1", "claim"),  # validation
    (GOOD.replace(b'"start": "2030-05-01T09:00"', b'"start": "9:00"'), "v1", "administrations[0].start"),
    (GOOD.replace(b'"visit": "v1"', b'"visit": 1'), None, "visit"),  # an id that is no text names nothing
    (GOOD.replace(b'"visit": "v1", ', b''), None, "visit"),  # nor does a missing one, "id" or not
    (GOOD.replace(b'"visit": "v1"', b'"visit": "v1", "visit": "v2"'), None, "visit"),
])
def test_an_error_record_carries_the_declared_id(coder, raw, encounter, path):
    record = code_record(coder, 3, raw)
    assert (record["encounter"], record["error"]["path"]) == (encounter, path)


def test_the_cluster_key_is_the_declared_id_unless_named(folder):
    from engine.cluster import partitions
    assert partitions.Job.of(folder).key == "visit"
    assert partitions.Job.of(folder, key="claim_key").key == "claim_key"


def test_a_bag_is_keyed_by_the_declared_id(folder):
    pytest.importorskip("pandas")
    import json

    from engine.cluster import dask as cluster_dask
    job = cluster_dask.Job.of(folder)
    good, bad = json.loads(GOOD), dict(json.loads(GOOD), claim="west")
    rows = cluster_dask._code_records([good, bad], job)
    assert [row["visit"] for row in rows] == ["v1", "v1"]
    assert rows[0]["error"] is None and rows[1]["error"]["path"] == "claim"
