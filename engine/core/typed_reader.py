"""The reader of a typed record, generated per declaration: from the Struct msgspec decoded
(engine.core.typed) straight to the Encounter and its events, one statement per declared field.

It does what engine.core.encounter.assembled does for the usual record, with each field's
work written out: flags absent are false; dates, times and forms match their pattern and
parse; ids are unique; each timed event's seconds are placed, its stop at or after its start
and within MAX_SPAN_DAYS; fields `id of KIND` name an event; `else first in` fills in. A
record with a time that carries an offset is handed to `assembled` (the zone of its naive
times depends on every aware one), and on anything doubtful (a value out of format, a
repeated id, a stop before its start) the reader answers None so that the careful way
(engine.core.encounter.parse_encounter), which alone words errors, reads it: a record reads
the same either way, which tests/engine/core/test_typed.py holds both ways to.

As it reads each event it also makes the event's values from the fields just read, and
builds the events as the builder generated for the declaration would build them from the
Encounter (engine.core.generated_events, whose EventsWriter writes both), so that the
compiled engine does not read every field a second time (tests/engine/core/test_typed.py
holds them equal). An event's values are a copy of its fields as read, changed where they
differ (EventsWriter.values_from_draft): their keys stand in another order than the builder's,
which no step reads. `else first in` fields are filled in only when a record gives a value
one of them may take (most give none: a single session without a label).

Example:
    read = generated_reader(declared)
    encounter, events = read(struct)  # events None: build them from the encounter
    # or None for the whole: go the careful way
"""
from __future__ import annotations

import operator

from dsl.checked import CheckedInput, EventKind, InputField
from engine.core import encounter as model
from engine.core.codegen import SourceWriter, attribute
from engine.core.events import readable
from engine.core.generated_events import EventsWriter


def generated_reader(declared: CheckedInput):
    """The function `read(record) -> (Encounter, events or None) | None` of a declaration's typed records."""
    return _ReaderWriter(declared).function()


def _by_documented(entry: tuple):
    """The canonical key of an entry (key, Documented, values) by its Documented, as its fields are filled in."""
    return model.canonical_key(entry[1])


class _ReaderWriter:
    def __init__(self, declared: CheckedInput):
        self.declared = declared
        self.out = SourceWriter()
        self.names = {id(kind): f"k{i}" for i, kind in enumerate(declared.kinds)}
        self.events = EventsWriter(declared, self.out)
        self.firsts = tuple((kind.name, f.name, f.first_in) for kind in declared.kinds for f in kind.fields
                            if f.first_in is not None)  # (kind, field, the kind whose first value it takes)

    def function(self):
        out, declared = self.out, self.declared
        out.line("def read(record):")
        out.line("aware = False", 1)  # a time with an offset seen: `assembled` places the events
        if self.firsts:
            out.line("first_given = False", 1)  # a value an `else first in` field may take: fill them in
        own = [f for f in declared.fields if f.refers_to is None]
        for i, field in enumerate(own):
            self._field(field, f"e{i}", "record", 1)
        locals_of = {field.name: f"e{i}" for i, field in enumerate(own)}
        out.line(f"shared = {self.events.shared(lambda field: locals_of[field.name])}", 1)
        for kind in declared.kinds:
            self._kind(kind)
        out.line(f"own = {{{', '.join(f'{f.name!r}: e{i}' for i, f in enumerate(own))}}}", 1)
        drafts = ", ".join(f"{kind.name!r}: {self.names[id(kind)]}" for kind in declared.kinds)
        out.line("if aware:", 1)
        out.line(f"named = {{name: value for name in {self._names_of_references()} "
                 f"if (value := getattr(record, name)) is not None}}", 2)
        out.line(f"return _assembled(_declared, named, own, _paths({{{drafts}}})), None", 2)
        for field in declared.fields:
            if field.refers_to is not None:
                value = attribute("record", field.name)
                out.line(f"value = {value}", 1)
                out.line(f"if value is not None and value not in {self._ids(field.refers_to)}:", 1)
                out.line("return None", 2)
                out.line(f"own[{field.name!r}] = value", 1)
        for kind in declared.kinds:
            for field in kind.fields:
                if field.refers_to is not None:
                    out.line(f"for draft in {self.names[id(kind)]}:", 1)
                    out.line(f"value = draft[{field.name!r}]", 2)
                    out.line(f"if value is not None and value not in {self._ids(field.refers_to)}:", 2)
                    out.line("return None", 3)
        events = ", ".join(f"{kind.name!r}: tuple(p{self.names[id(kind)]})" for kind in declared.kinds)
        out.line(f"events = {{{events}}}", 1)
        if self.firsts:
            out.line("if first_given:", 1)  # else no field has a first value to take
            out.line(f"_fill_firsts({out.constant(self.firsts)}, events)", 2)
            self._filled()
        payer = f"own[{declared.payer_field!r}]" if declared.payer_field else "None"
        primary = f"own[{declared.primary_field!r}]" if declared.primary_field else "None"
        out.line(f"encounter = _Encounter(own[{declared.id_field!r}], own[{declared.date_field!r}], own, events, "
                 f"payer={payer}, primary={primary})", 1)
        out.line("built = {}", 1)
        for kind in declared.kinds:
            self._built(kind)
        out.line("return encounter, built", 1)
        paths = {kind.name: kind.key for kind in declared.kinds}
        return out.compiled("read", "<infuse typed reader>", {
            **self.events.names, "_by_documented": _by_documented,
            "_by_key": operator.itemgetter(0),  # an entry by the canonical key made as it was read
            "_declared": declared, "_assembled": model.assembled, "_Encounter": model.Encounter,
            "_Documented": model.Documented, "_fill_firsts": model.fill_firsts, "_EPOCH": model.EPOCH_NAIVE,
            "_MAX_SPAN": model.MAX_SPAN_SECONDS,
            "_paths": lambda drafts: {name: [(f"{paths[name]}[{i}]", d) for i, d in enumerate(items)]
                                      for name, items in drafts.items()}})

    def _names_of_references(self) -> str:
        return self.out.constant(tuple(f.name for f in self.declared.fields if f.refers_to is not None))

    def _ids(self, kind_name: str) -> str:
        kind = self.declared.kind(kind_name)
        return f"ids_{self.names[id(kind)]}" if kind.id_field else "()"

    def _field(self, field: InputField, local: str, owner: str, level: int):
        """`local` = the field's value as the careful way reads it; `return None` when it is out of format."""
        out = self.out
        out.line(f"{local} = {attribute(owner, field.name)}", level)
        kind = field.type.kind
        if kind == "bool":
            out.line(f"if {local} is None:", level)
            out.line(f"{local} = False", level + 1)
            return
        form = model.field_format(field)
        if form is None:
            return
        if not field.required:
            out.line(f"if {local} is not None:", level)
            level += 1
        out.line(f"if not {out.constant(form.pattern.fullmatch, '_match')}({local}):", level)
        out.line("return None", level + 1)
        if form.parse is not str:
            out.line(f"{local} = {out.constant(form.parse, '_parse')}({local})", level)
        if kind == "time":
            out.line(f"if {local}.tzinfo is not None:", level)
            out.line("aware = True", level + 1)

    def _kind(self, kind: EventKind):
        """The kind's drafts (`kN`, the fields as read), its ids (`ids_kN`), its Documented
        events placed in the zone of naive times (`pkN`), as if none were aware, and for each
        the entry (canonical key of a timed one, Documented, values) its Event is built from (`vkN`)."""
        out, name = self.out, self.names[id(kind)]
        items = attribute("record", kind.key)
        out.line(f"{name} = []", 1)
        out.line(f"p{name} = []", 1)
        out.line(f"v{name} = []", 1)
        if kind.id_field:
            out.line(f"ids_{name} = set()", 1)
        out.line(f"for index, item in enumerate({items} or ()):", 1)
        for i, field in enumerate(kind.fields):
            self._field(field, f"f{i}", "item", 2)
        position = {field.name: f"f{i}" for i, field in enumerate(kind.fields)}
        for taken in dict.fromkeys(name for _, name, source in self.firsts if source == kind.name):
            out.line(f"if {position[taken]} is not None:", 2)
            out.line("first_given = True", 3)
        if kind.id_field:
            out.block(f"""
                if {position[kind.id_field]} is not None:
                    if {position[kind.id_field]} in ids_{name}:
                        return None
                    ids_{name}.add({position[kind.id_field]})
            """, 2)
        fields = ", ".join(f"{field.name!r}: f{i}" for i, field in enumerate(kind.fields))
        out.line(f"draft = {{{fields}}}", 2)
        out.line(f"{name}.append(draft)", 2)
        event_id = position[kind.id_field] if kind.id_field else "None"
        if kind.start is None:
            out.line(f"documented = _Documented({kind.name!r}, index, {event_id}, draft)", 2)
            out.line(f"p{name}.append(documented)", 2)
            self.events.values_from_draft(kind, lambda field: position[field.name], 2)
            out.line(f"v{name}.append((None, documented, values))", 2)
            return
        start, stop = position[kind.start], position[kind.stop] if kind.stop else "None"
        out.block(f"""
            if aware:
                continue
            delta = {start} - _EPOCH  # its whole seconds, as encounter.whole_seconds counts them
            start_s = delta.days * 86400 + delta.seconds
            if {stop} is None:
                stop_s = None
            else:
                delta = {stop} - _EPOCH
                stop_s = delta.days * 86400 + delta.seconds
                if stop_s < start_s or stop_s - start_s > _MAX_SPAN:
                    return None
            documented = _Documented({kind.name!r}, index, {event_id}, draft, {start}, {stop}, start_s, stop_s)
            p{name}.append(documented)
        """, 2)
        self.events.values_from_draft(kind, lambda field: position[field.name], 2)
        out.line(f"v{name}.append(((0, start_s, start_s if stop_s is None else stop_s, {event_id} or \"\"),"
                 " documented, values))  # the canonical key, as canonical_key makes it", 2)

    def _filled(self):
        """Each event's values take what `else first in` filled into its fields, folded as read."""
        for kind in self.declared.kinds:
            for field in kind.fields:
                if field.first_in is None or not readable(field):
                    continue
                name = field.name
                self.out.line(f"for _, documented, values in v{self.names[id(kind)]}:", 2)
                self.out.line(f"if values[{name!r}] is None:", 3)
                self.out.line(f"values[{name!r}] = {self.events.value(field, f'documented.values[{name!r}]')}", 4)

    def _built(self, kind: EventKind):
        """The kind's events in canonical order from its (key, Documented, values) entries (a
        timed event's key made as it is read), and their derived facts."""
        out = self.out
        entries = f"v{self.names[id(kind)]}"
        if kind.start is None:  # the canonical key of an untimed event reads its fields as filled in
            entries = f"sorted({entries}, key=_by_documented) if len({entries}) > 1 else {entries}"
        else:
            entries = f"sorted({entries}, key=_by_key) if len({entries}) > 1 else {entries}"
        reads_ordered = self.events.reads_ordered(kind)
        if reads_ordered:
            out.line("ordered = []", 1)
        out.line("events = []", 1)
        self.events.begin(kind, 1)
        out.line(f"for order, (_, documented, values) in enumerate({entries}):", 1)
        if reads_ordered:
            out.line("ordered.append(documented)", 2)
        self.events.event(kind, 2)
        self.events.facts(kind)
        out.line(f"built[{kind.name!r}] = events", 1)
