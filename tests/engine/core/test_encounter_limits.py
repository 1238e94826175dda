"""An encounter lists at most MAX_ADMINISTRATIONS administrations and MAX_EM_SERVICES E/M
services: far more than any visit documents, few enough that coding one at the limit takes
milliseconds. A longer list is an error record naming the list, not minutes of coding."""
import pytest

from bench import corpus
from engine.core.encounter import MAX_ADMINISTRATIONS, MAX_EM_SERVICES, EncounterError


def at_the_limit(extra: int = 0, em: int = 1) -> dict:
    data = corpus.many_administrations(1, seed=7, administrations=MAX_ADMINISTRATIONS + extra, drugs=5)[0]
    data["em"] = [{"code": "99284"}] * em
    return data


def test_an_encounter_at_the_limits_is_coded(compiled_coder):
    result = compiled_coder.code(at_the_limit(em=MAX_EM_SERVICES))
    assert result.lines


def test_one_administration_more_is_an_error_naming_the_list(compiled_coder):
    with pytest.raises(EncounterError) as caught:
        compiled_coder.code(at_the_limit(extra=1))
    assert (caught.value.path, caught.value.message) == (
        "administrations", f"expected at most {MAX_ADMINISTRATIONS} administrations; got {MAX_ADMINISTRATIONS + 1}")


def test_one_em_service_more_is_an_error_naming_the_list(compiled_coder):
    with pytest.raises(EncounterError) as caught:
        compiled_coder.code(at_the_limit(em=MAX_EM_SERVICES + 1))
    assert (caught.value.path, caught.value.message) == (
        "em", f"expected at most {MAX_EM_SERVICES} E/M services; got {MAX_EM_SERVICES + 1}")
