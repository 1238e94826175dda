"""An initial stage as code generated for it: what engine.core.stages.initial.initial does,
with the stage's rankings turned into look-ups (selector -> value -> rank), its ties
written out as one tuple and its group keys as statements; a group of one event is given its
role at once (it is the initial one, and repeats nothing), and a group of a few events takes
its roles by scanning what came before it, where Roles keeps look-ups that pay off only on
larger groups.

The generic `initial` stays the definition: the reference engine runs it, a run with a trace
runs it (its records are built there), and a group of more than _FEW events takes its roles
from its `Roles`. tests/engine/core/test_generated_stages.py holds both to the same runs.

Example:
    step = generated_initial(stage, Facts(alike="drug", duration="duration"))
    step(run)
"""
from __future__ import annotations

import operator

from dsl.checked import CheckedInitial
from engine.core.codegen import SourceWriter
from engine.core.stages.initial import BY_RANK, Facts, Roles, initial, ranked_values


def generated_initial(stage: CheckedInitial, facts: Facts):
    """The step `initial_step(run)` of one initial stage."""
    out = SourceWriter()
    ranks = {selector: _first_index(ranking) for selector, ranking in stage.rankings.items()}
    default = ranks.get(None)
    promoted = {selector: (index["primary"], stage.primary_of.get(selector, stage.primary_of.get(None)))
                for selector, index in [*ranks.items(), (_UNNAMED, default or {})] if "primary" in index}
    out.block("""
        def initial_step(run):
            if run.trace is not None:
                return _generic(_stage, _ranked, _facts, run)
            primary = run.encounter.primary
            candidates = []
    """)
    for i in range(len(stage.keys)):
        out.line(f"first{i} = {{}}", 1)
    selector = f"values.get({stage.selector!r})" if stage.selector else "None"
    out.block(f"""
        for event in run.events:
            values = event.values
            value = values.get({stage.ranked_field!r})
            if value not in _ranked:
                continue
            selector = {selector}
            own = _ranks.get(selector, _default).get(value)
            if own is None:
                continue
            rank = own
    """, 1)
    if promoted:
        out.block("""
            if primary in event.ids:
                promotion = _promoted.get(selector if selector in _ranks else _UNNAMED)
                if promotion is not None and promotion[0] < rank and (not promotion[1] or value in promotion[1]):
                    rank = promotion[0]
        """, 2)
    ties = "".join(f"{_tie(tie, facts)}, " for tie in stage.ties)
    _group(out, stage.keys, f"(rank, ({ties}event.order), event, own, selector")
    out.block("""
        ordered_groups = sorted(groups.items(), key=_first_order) if len(groups) > 1 else list(groups.items())
        first_key = ordered_groups[0][0] if ordered_groups else None
        for key, members in ordered_groups:
            distinct = 'none' if key == first_key else next(
                (_keys[i] for i, (a, b) in enumerate(zip(key, first_key)) if a != b), 'none')
            if len(members) == 1:
                event = members[0][2]
                values = event.values
                values['distinct'] = distinct
                values['role'] = 'initial'
                values['repeats'] = None
                event.trail.append(_rule)
                continue
            chosen = min(members, key=BY_RANK)[2]
            events = sorted(map(_event_of, members), key=_order)
            if len(events) > _FEW:
                roles = Roles(_stage, chosen, events, _facts)
                for event in events:
                    values = event.values
                    values['distinct'] = distinct
                    values['role'] = 'initial' if event is chosen else roles.role(event)
                    values['repeats'] = roles.repeats(event)
                    event.trail.append(_rule)
                    roles.given(event)
                continue
    """, 1)
    _few_roles(out, stage.ranked_field, _same(facts))
    ranked = ranked_values(stage)
    return out.compiled("initial_step", f"<infuse initial {stage.name}>", {
        "_generic": initial, "_stage": stage, "_ranked": ranked, "_facts": facts, "_ranks": ranks,
        "_default": default or {}, "_promoted": promoted, "_UNNAMED": _UNNAMED, "_keys": stage.keys,
        "BY_RANK": BY_RANK, "Roles": Roles, "_rule": f"initial/{stage.name}",
        "_FEW": _FEW, "_concurrent": stage.concurrent,
        "_first_order": _first_order, "_order": _ORDER, "_event_of": _EVENT_OF})


def _first_order(item: tuple) -> int:
    """The order of a group's first event (item: its key and members); a loop, not min() over
    a generator, which costs a function made for each group."""
    first = None
    for candidate in item[1]:
        order = candidate[2].order
        if first is None or order < first:
            first = order
    return first


_ORDER = operator.attrgetter("order")
_EVENT_OF = operator.itemgetter(2)  # of a candidate (rank, ties, event, own rank, selector, documented key values)


def _few_roles(out: SourceWriter, field: str, same: str):
    """The roles of a group of a few events as initial.Roles gives them, what came before kept
    in lists and scanned (`earlier`: the (start, end, substance) of the concurrent events given;
    `ahead`: the initial event's, for the events before it), each value read where Roles reads it.
    Loops, not comprehensions and any(): Python 3.11 makes a function object for each of those."""
    out.block(f"""
        ahead = []
        if chosen.values.get({field!r}) in _concurrent:
            substance = {same.format(event='chosen')}
            for a, b in chosen.intervals:
                ahead.append((a, b, substance))
        earlier = []
        first = set()
        last_role = {{}}
        for event in events:
            values = event.values
            substance = {same.format(event='event')}
            values['distinct'] = distinct
            if event is chosen:
                role = 'initial'
            else:
                role = 'repeat' if substance in first else 'sequential'
                if values.get({field!r}) in _concurrent:
                    before = event.order < chosen.order
                    for s, e in event.intervals:
                        for a, b, other in (earlier + ahead if before else earlier):
                            if a < e and s < b and other != substance:
                                role = 'concurrent'
                                break
                        if role == 'concurrent':
                            break
            values['role'] = role
            values['repeats'] = last_role.get((substance, values.get({field!r})))
            event.trail.append(_rule)
            value = values.get({field!r})
            if value in _concurrent:
                for a, b in event.intervals:
                    earlier.append((a, b, substance))
            first.add(substance)
            last_role[(substance, value)] = role
    """, 2)


def _same(facts: Facts) -> str:
    """The expression (of `{event}`) that makes two events alike (Facts.same)."""
    return f"{{event}}.values.get({facts.alike!r})" if facts.alike else "{event}.ids"


def _group(out: SourceWriter, keys: tuple, candidate: str):
    """The groups of the candidates as grouping.group_keys finds them, with the keys written
    out: a missing value takes the first documented one among the candidates before it
    agreeing on the keys before it (`first{i}`, by the documented values before it). Each
    candidate (`candidate`, the start of its tuple) keeps its documented key values last."""
    documented = "".join(f"v{i}, " for i in range(len(keys)))
    for i, key in enumerate(keys):  # still inside the loop over the events: note the first values
        out.line(f"if (v{i} := values.get({key!r})) is not None:", 2)
        out.line(f"first{i}.setdefault(({''.join(f'v{j}, ' for j in range(i))}), v{i})", 3)
    out.line(f"candidates.append({candidate}, ({documented})))", 2)
    out.line("if not candidates:", 1)  # most encounters, for a stage ranking what few have (a pump)
    out.line("return", 2)
    out.line("groups = {}", 1)
    out.line("for candidate in candidates:", 1)
    if keys:
        out.line(f"{documented} = candidate[5]", 2)
    for i in range(len(keys)):
        out.line(f"if v{i} is None:", 2)
        out.line(f"v{i} = first{i}.get(({''.join(f'v{j}, ' for j in range(i))}))", 3)
    out.line(f"groups.setdefault(({documented}), []).append(candidate)", 2)


_FEW = 16  # a group of more events takes its roles from initial.Roles: its look-ups beat scanning
_UNNAMED = object()  # the key of the default ranking's promotion, for a selector value no ranking names


def _first_index(ranking: tuple) -> dict:
    """Value -> its place in the ranking (the first, as tuple.index finds it)."""
    index: dict = {}
    for place, value in enumerate(ranking):
        index.setdefault(value, place)
    return index


def _tie(tie: str, facts: Facts) -> str:
    """The expression of one tie-breaker of a candidate `event` (initial._TIE_KEYS)."""
    time = f"(values.get({facts.duration!r}) or 0)" if facts.duration else "0"
    return {"primary": "0 if primary in event.ids else 1", "earliest start": "event.start_s",
            "latest start": "-event.start_s", "longest duration": f"-{time}", "shortest duration": time}[tie]
