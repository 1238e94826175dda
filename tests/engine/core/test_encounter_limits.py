"""An encounter lists at most 1000 administrations and 100 E/M services, as the 2026 ruleset
declares (`at most N`, rulesets/2026/input.rules): far more than any visit documents, few
enough that coding one at the limit takes milliseconds. A longer list is an error record
naming the list, not minutes of coding."""
import pytest

from bench import corpus
from engine.core.encounter import EncounterError


@pytest.fixture(scope="module")
def limits(compiled_coder) -> dict:
    """The declared limit of each kind's list, by its key."""
    return {kind.key: kind.at_most for kind in compiled_coder.registry.latest.base.input.kinds}


def test_the_limits_are_the_contracts(limits):
    assert limits == {"administrations": 1000, "em": 100}


def at_the_limit(limits: dict, extra: int = 0, em: int = 1) -> dict:
    data = corpus.many_administrations(1, seed=7, administrations=limits["administrations"] + extra, drugs=5)[0]
    data["em"] = [{"code": "99284"}] * em
    return data


def test_an_encounter_at_the_limits_is_coded(compiled_coder, limits):
    result = compiled_coder.code(at_the_limit(limits, em=limits["em"]))
    assert result.lines


# The message was "expected at most N administrations" / "N E/M services"; the limit is
# now declared per list, and the message names the entries of the list at its path.
def test_one_administration_more_is_an_error_naming_the_list(compiled_coder, limits):
    with pytest.raises(EncounterError) as caught:
        compiled_coder.code(at_the_limit(limits, extra=1))
    assert (caught.value.path, caught.value.message) == ("administrations", "expected at most 1000 entries; got 1001")


def test_one_em_service_more_is_an_error_naming_the_list(compiled_coder, limits):
    with pytest.raises(EncounterError) as caught:
        compiled_coder.code(at_the_limit(limits, em=limits["em"] + 1))
    assert (caught.value.path, caught.value.message) == ("em", "expected at most 100 entries; got 101")
