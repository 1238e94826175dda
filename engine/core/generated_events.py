"""The events of an encounter built by code generated per declaration: what
engine.core.events.build_events does, with each readable field and each derived fact written
out as a statement instead of looked up in a plan for every event.

The generic build_events stays the definition: the reference engine and every trace use it,
and tests/engine/core/test_generated_events.py holds the two to equal events. Derived facts
of the common forms are written out (`time from START to STOP` of the timed pair, `days
between`, `time since previous`); any other built-in is called as build_events calls it, in
the order declared, so the values of every event hold their keys in the same order.

Example:
    build = generated_builder(declared)
    events = build(encounter)  # kind name -> its events in canonical order
"""
from __future__ import annotations

from dsl.checked import CheckedInput, DerivedFact, EventKind, InputField
from engine.core import events as generic
from engine.core.codegen import SourceWriter
from engine.core.encounter import canonical
from engine.core.stages.state import Event


def generated_builder(declared: CheckedInput):
    """The function `build(encounter) -> {kind name: events}` of a declaration."""
    return _BuilderWriter(declared).function()


def _readable(fields) -> list[InputField]:
    return [field for field in fields if generic.readable(field)]


class _BuilderWriter:
    def __init__(self, declared: CheckedInput):
        self.declared = declared
        self.out = SourceWriter()

    def function(self):
        out = self.out
        out.line("def build(encounter):")
        shared = ", ".join(f"{field.name!r}: {_read('encounter.values', field)}"
                           for field in _readable(self.declared.fields))
        out.line(f"shared = {{{shared}}}", 1)
        out.line("built = {}", 1)
        for kind in self.declared.kinds:
            self._kind(kind)
        out.line("return built", 1)
        return out.compiled("build", "<infuse events>", {"_canonical": canonical, "_Event": Event})

    def _kind(self, kind: EventKind):
        fields = "".join(f", {field.name!r}: {_read('own', field)}" for field in _readable(kind.fields))
        self.out.block(f"""
            ordered = _canonical(encounter.events[{kind.name!r}])
            events = []
            for order, documented in enumerate(ordered):
                own = documented.values
                values = {{**shared{fields}}}
                start, stop = documented.start_s, documented.stop_s
                spans = [(start, stop)] if stop is not None and stop > start else []
                ids = (documented.id,) if documented.id is not None else ()
                events.append(_Event(ids, values, start, stop, documented.start, spans, order, [], {kind.name!r}))
        """, 1)
        for fact in kind.derived:
            self._fact(kind, fact)
        self.out.line(f"built[{kind.name!r}] = events", 1)

    def _fact(self, kind: EventKind, fact: DerivedFact):
        out = self.out
        if fact.builtin == "time_between" and fact.fields == (kind.start, kind.stop):
            out.line("for event in events:", 1)
            out.line(f"event.values[{fact.name!r}] = None if event.stop_s is None else event.stop_s - event.start_s", 2)
        elif fact.builtin == "days_between":
            first, second = (self._day(kind, name) for name in fact.fields)
            out.line("for event, documented in zip(events, ordered):", 1)
            out.line(f"first, second = {first}, {second}", 2)
            out.line(f"event.values[{fact.name!r}] = None if first is None or second is None "
                     f"else abs((second - first).days)", 2)
        elif fact.builtin == "time_since":
            self._time_since(fact)
        elif fact.builtin in generic.BUILT_INS:
            derive, named, of_kind = (out.constant(generic.BUILT_INS[fact.builtin]), out.constant(fact),
                                      out.constant(kind))
            out.line(f"{derive}({named}, {of_kind}, events, ordered, encounter)", 1)

    def _day(self, kind: EventKind, name: str) -> str:
        """The expression of the date of a date or time field, the event's or else the encounter's."""
        field = next((f for f in kind.fields if f.name == name), None)
        owner = "documented.values"
        if field is None:
            field, owner = next(f for f in self.declared.fields if f.name == name), "encounter.values"
        value = f"{owner}.get({name!r})"
        return f"(None if (day := {value}) is None else day.date())" if field.type.kind == "time" else value

    def _time_since(self, fact: DerivedFact):
        """Time from the latest end among the earlier matching events sharing `per` to the start."""
        out = self.out
        key = "".join(f"values.get({name!r}), " for name in fact.per)
        out.block(f"""
            last_end = {{}}
            for event in events:
                values = event.values
                key = ({key})
                previous = last_end.get(key)
                values[{fact.name!r}] = None if previous is None else event.start_s - previous
        """, 1)
        level = 2
        if fact.where:
            matches = " and ".join(f"values.get({field!r}) in {out.constant(frozenset(values))}"
                                   for field, values in fact.where)
            out.line(f"if {matches}:", 2)
            level = 3
        out.block("""
            end = event.stop_s if event.stop_s is not None else event.start_s
            last_end[key] = end if previous is None or end > previous else previous
        """, level)


def _read(owner: str, field: InputField) -> str:
    """The expression of a field's value as the tables compare it (folded: without case and surrounding space)."""
    value = f"{owner}.get({field.name!r})"
    if not field.folded:
        return value
    return f"(None if (text := {value}) is None else text.strip().casefold())"
