"""bench/gap.py reads infuse and the hand-written coder in the same parts: every part infuse's
steps are named by falls in one of them, and timing the hand-written coder's functions in
place leaves the module as it was and gives time to each of its parts."""
from __future__ import annotations

from bench import gap, handwritten, stages, subjects


def test_every_step_of_infuse_falls_in_a_part(compiled_coder):
    texts = [text.encode() for text in subjects.encounter_texts("typical_day", 20)]
    names = stages.parts(texts, compiled_coder)
    assert {gap.infuse_part(name) for name in names} <= set(gap.PARTS)


def test_the_handwritten_coder_is_timed_in_place_and_left_as_it_was():
    originals = {name: getattr(handwritten, name) for name in gap.HANDWRITTEN_PARTS}
    texts = [text.encode() for text in subjects.encounter_texts("typical_day", 20)]
    spent = gap.handwritten_parts(texts)
    assert {name: getattr(handwritten, name) for name in gap.HANDWRITTEN_PARTS} == originals
    assert set(spent) == set(gap.PARTS) and all(seconds > 0 for seconds in spent.values())


def test_the_loop_between_steps_is_timed(compiled_coder):
    texts = [text.encode() for text in subjects.encounter_texts("typical_day", 5)]
    assert gap.between_steps(texts, compiled_coder) > 0


def test_the_read_and_the_edits_are_taken_apart(compiled_coder):
    texts = [text.encode() for text in subjects.encounter_texts("typical_day", 20)]
    read = gap.read_parts(texts, compiled_coder)
    assert len(read) == 3 and all(seconds > 0 for seconds in read.values())
    assert set(gap.edit_parts(texts, compiled_coder)) == {
        "concurrent-once", "injection-with-iv", "ncci-ptp", "ncci-mue", "addon-primaries"}
