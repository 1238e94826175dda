"""Every golden case codes as expected, with both engines, and every result fits the contract."""
import json

import jsonschema
import pytest

from tests.conftest import CASES, ROOT
from tests.golden import lines_match, load_cases, show

GOLDEN = load_cases(CASES)
SHARED = ROOT.parent / "shared"
RESULT_SCHEMA = json.loads((ROOT / "tests" / "contract" / "result.schema.json").read_text())


@pytest.mark.parametrize("engine_name", ["compiled", "reference"])
@pytest.mark.parametrize("name,case", GOLDEN, ids=[name for name, _ in GOLDEN])
def test_golden_case(name, case, engine_name, compiled_coder, reference_coder):
    coder = compiled_coder if engine_name == "compiled" else reference_coder
    result = coder.code(case["encounter"]).as_dict()
    assert lines_match(case["expect"]["lines"], result["lines"]), (
        f"{name}: got {show(result['lines'])}; expected {show(case['expect']['lines'])}")
    found = {finding["id"] for finding in result["findings"]}
    assert set(case["expect"]["findings"]) <= found, f"{name}: findings {sorted(found)}"


@pytest.mark.parametrize("name,case", GOLDEN, ids=[name for name, _ in GOLDEN])
def test_engines_agree(name, case, compiled_coder, reference_coder):
    assert compiled_coder.code(case["encounter"]) == reference_coder.code(case["encounter"])


@pytest.mark.parametrize("name,case", GOLDEN, ids=[name for name, _ in GOLDEN])
def test_result_fits_contract_schema(name, case, compiled_coder):
    jsonschema.validate(compiled_coder.code(case["encounter"]).as_dict(), RESULT_SCHEMA)


def test_every_shared_case_is_in_the_golden_set():
    if not (SHARED / "cases").is_dir():
        pytest.skip("../shared is not here")
    ours = {json.dumps(case["encounter"], sort_keys=True) for _, case in GOLDEN}
    for path in sorted((SHARED / "cases").rglob("*.json")):
        case = json.loads(path.read_text())
        if "encounter" in case:
            assert json.dumps(case["encounter"], sort_keys=True) in ours, f"{path.name} is not in tests/cases"
