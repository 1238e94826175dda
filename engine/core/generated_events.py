"""The events of an encounter built by code generated per declaration: what
engine.core.events.build_events does, with each readable field and each derived fact written
out as a statement instead of looked up in a plan for every event.

The generic build_events stays the definition: the reference engine and every trace use it,
and tests/engine/core/test_generated_events.py holds the two to equal events. Derived facts
of the common forms are written out (`time from START to STOP` of the timed pair, `days
between`, `time since previous`); any other built-in is called as build_events calls it, in
the order declared, so the values of every event hold their keys in the same order.

The statements are written by `EventsWriter`, which the reader of typed records
(engine.core.typed_reader) shares: it builds the events as it reads a record, from the
values it has just read, instead of reading them again from the Encounter.

Example:
    build = generated_builder(declared)
    events = build(encounter)  # kind name -> its events in canonical order
"""
from __future__ import annotations

from collections.abc import Callable

from dsl.checked import CheckedInput, DerivedFact, EventKind, InputField
from engine.core import events as generic
from engine.core.codegen import SourceWriter
from engine.core.encounter import canonical
from engine.core.stages.state import Event


def generated_builder(declared: CheckedInput):
    """The function `build(encounter) -> {kind name: events}` of a declaration."""
    out = SourceWriter()
    writer = EventsWriter(declared, out)
    out.line("def build(encounter):")
    out.line(f"shared = {writer.shared(lambda field: f'encounter.values.get({field.name!r})')}", 1)
    out.line("built = {}", 1)
    for kind in declared.kinds:
        out.line(f"ordered = _canonical(encounter.events[{kind.name!r}])", 1)
        out.line("events = []", 1)
        writer.begin(kind, 1)
        out.line("for order, documented in enumerate(ordered):", 1)
        out.line("own = documented.values", 2)
        out.line(f"values = {writer.values(kind, lambda field: f'own.get({field.name!r})')}", 2)
        writer.event(kind, 2)
        writer.facts(kind)
        out.line(f"built[{kind.name!r}] = events", 1)
    out.line("return built", 1)
    return out.compiled("build", "<infuse events>", {"_canonical": canonical, **writer.names})


def _readable(fields) -> list[InputField]:
    return [field for field in fields if generic.readable(field)]


class EventsWriter:
    """Writes the statements that build a declaration's events into `out`: the values of an
    event as a dict display (`shared`, `values`), the Event of `documented` and `values`
    appended to `events` (`event`), and the derived facts over `events` in canonical order,
    beside `ordered` (their Documented) and `encounter` (`facts`). `names` are the globals
    the statements use."""

    names = {"_Event": Event}

    def __init__(self, declared: CheckedInput, out: SourceWriter):
        self.declared = declared
        self.out = out

    def shared(self, read: Callable[[InputField], str]) -> str:
        """The dict display of the encounter's readable fields, `read(field)` the expression of one as read."""
        pairs = ", ".join(f"{field.name!r}: {_folded(field, read(field))}" for field in _readable(self.declared.fields))
        return f"{{{pairs}}}"

    def values(self, kind: EventKind, read: Callable[[InputField], str]) -> str:
        """The dict display of an event's values before its derived facts: `shared`'s, then the
        kind's readable fields."""
        return f"{{**shared{''.join(f', {f.name!r}: {_folded(f, read(f))}' for f in _readable(kind.fields))}}}"

    def values_from_draft(self, kind: EventKind, read: Callable[[InputField], str], level: int):
        """The statements making `values` (what `values` displays) from `draft`, the dict of
        the kind's fields as read: a copy of it, its unread fields taken away or given the
        encounter's value of the same name, the encounter's fields added, the folded ones
        folded. Copying a dict of some twenty keys costs a fifth of displaying one, and a
        display after `**shared` builds a second dict to merge (1.5 µs of a typical-day
        record's 12 in the reader)."""
        out = self.out
        shared = [field.name for field in _readable(self.declared.fields)]
        own = {field.name for field in _readable(kind.fields)}
        out.line("values = draft.copy()", level)
        for field in kind.fields:
            if field.name not in own and field.name not in shared:
                out.line(f"del values[{field.name!r}]", level)
        for name in shared:
            if name not in own:
                out.line(f"values[{name!r}] = shared[{name!r}]", level)
        for field in _readable(kind.fields):
            if field.folded:
                local = read(field)
                out.line(f"if {local} is not None:", level)
                out.line(f"values[{field.name!r}] = {_fold(local)}", level + 1)

    @staticmethod
    def value(field: InputField, expression: str) -> str:
        """The expression of a field's value as the tables compare it, `expression` its value as read."""
        return _folded(field, expression)

    def reads_ordered(self, kind: EventKind) -> bool:
        """Whether the statements `facts` writes read `ordered` (the loop need not fill it otherwise)."""
        return not self._inline(kind)

    def begin(self, kind: EventKind, level: int):
        """What the loop over the kind's events needs before it starts."""
        if self._inline(kind):
            for i, fact in enumerate(kind.derived):
                if fact.builtin == "time_since":
                    self.out.line(f"last_end{i} = {{}}", level)

    def event(self, kind: EventKind, level: int):
        """The Event of `documented` and `values` (at `order`), appended to `events`; and its
        derived facts, when each is one this writer writes out: they then need no other pass
        (a `time since previous` needs only the events before, which the loop has passed)."""
        self.out.block(f"""
            start, stop = documented.start_s, documented.stop_s
            spans = [(start, stop)] if stop is not None and stop > start else []
            ids = (documented.id,) if documented.id is not None else ()
            events.append(_Event(ids, values, start, stop, documented.start, spans, order, [], {kind.name!r}))
        """, level)
        if self._inline(kind):
            for i, fact in enumerate(kind.derived):
                self._fact_of_one(kind, fact, f"last_end{i}", level)

    def facts(self, kind: EventKind):
        """The derived facts as passes over `events`, when one of them is a built-in called as
        build_events calls it (each fact then sees every event's earlier facts, as there): a
        written-out fact as a loop of its statements, any other as a call."""
        if self._inline(kind):
            return
        out = self.out
        for i, fact in enumerate(kind.derived):
            if not _written_out(kind, fact):
                if fact.builtin not in generic.BUILT_INS:  # count_lines waits for the lines (engine.core.pipeline)
                    continue
                derive, named, of_kind = (out.constant(generic.BUILT_INS[fact.builtin]), out.constant(fact),
                                          out.constant(kind))
                out.line(f"{derive}({named}, {of_kind}, events, ordered, encounter)", 1)
                continue
            if fact.builtin == "time_since":
                out.line(f"last_end{i} = {{}}", 1)
            out.block("""
                for event, documented in zip(events, ordered):
                    values = event.values
                    start, stop = event.start_s, event.stop_s
            """, 1)
            self._fact_of_one(kind, fact, f"last_end{i}", 2)

    @staticmethod
    def _inline(kind: EventKind) -> bool:
        return all(_written_out(kind, fact) for fact in kind.derived)

    def _fact_of_one(self, kind: EventKind, fact: DerivedFact, last_end: str, level: int):
        """A written-out fact of the event just built (`values`, `start`, `stop`, `documented`)."""
        out = self.out
        if fact.builtin == "time_between":
            out.line(f"values[{fact.name!r}] = None if stop is None else stop - start", level)
        elif fact.builtin == "days_between":
            first, second = (self._day(kind, name) for name in fact.fields)
            out.line(f"first, second = {first}, {second}", level)
            out.line(f"values[{fact.name!r}] = None if first is None or second is None "
                     f"else abs((second - first).days)", level)
        else:
            key = "".join(f"values.get({name!r}), " for name in fact.per)
            out.block(f"""
                key = ({key})
                previous = {last_end}.get(key)
                values[{fact.name!r}] = None if previous is None else start - previous
            """, level)
            if fact.where:
                out.line(f"if {self._matches(fact)}:", level)
                level += 1
            out.block(f"""
                end = stop if stop is not None else start
                {last_end}[key] = end if previous is None or end > previous else previous
            """, level)

    def _day(self, kind: EventKind, name: str) -> str:
        """The expression of the date of a date or time field, the event's or else the
        encounter's (its start and stop, and the encounter's date, as the Documented and the
        Encounter hold them apart: the same values, without a look-up)."""
        field = next((f for f in kind.fields if f.name == name), None)
        owner = "documented.values"
        if field is None:
            field, owner = next(f for f in self.declared.fields if f.name == name), "encounter.values"
        value = f"{owner}.get({name!r})"
        if field is not None and owner == "documented.values" and name in (kind.start, kind.stop):
            value = f"documented.{'start' if name == kind.start else 'stop'}"
        elif owner == "encounter.values" and name == self.declared.date_field:
            value = "encounter.date"
        return f"(None if (day := {value}) is None else day.date())" if field.type.kind == "time" else value

    def _matches(self, fact: DerivedFact) -> str:
        return " and ".join(f"values.get({field!r}) in {self.out.constant(frozenset(values))}"
                            for field, values in fact.where)


def _written_out(kind: EventKind, fact: DerivedFact) -> bool:
    """A fact this writer writes out as statements; any other built-in is called."""
    if fact.builtin == "time_between":
        return fact.fields == (kind.start, kind.stop)
    return fact.builtin in ("days_between", "time_since")


def _folded(field: InputField, value: str) -> str:
    """The expression of a field's value as the tables compare it (folded: without case and surrounding space)."""
    if not field.folded:
        return value
    return f"(None if (text := {value}) is None else {_fold('text')})"


def _fold(text: str) -> str:
    """The expression folding `text`, an expression that is never None, as engine.core.events folds a value."""
    return f"{text}.strip().casefold()"
