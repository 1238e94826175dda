"""An initial stage as code generated for it: what engine.core.stages.initial.initial does,
with the stage's rankings turned into look-ups (selector -> value -> rank), its ties
written out as one tuple and its group keys as statements, and a group of one event given its role at once (it is the initial
one, and repeats nothing), which is most groups.

The generic `initial` stays the definition: the reference engine runs it, a run with a trace
runs it (its records are built there), and a group of several events still takes its roles
from its `Roles`. tests/engine/core/test_generated_stages.py holds both to the same runs.

Example:
    step = generated_initial(stage, Facts(alike="drug", duration="duration"))
    step(run)
"""
from __future__ import annotations

from dsl.checked import CheckedInitial
from engine.core.codegen import SourceWriter
from engine.core.stages.initial import BY_RANK, Facts, Roles, initial


def generated_initial(stage: CheckedInitial, facts: Facts):
    """The step `initial_step(run)` of one initial stage."""
    out = SourceWriter()
    ranks = {selector: _first_index(ranking) for selector, ranking in stage.rankings.items()}
    default = ranks.get(None)
    promoted = {selector: (index["primary"], stage.primary_of.get(selector, stage.primary_of.get(None)))
                for selector, index in [*ranks.items(), (_UNNAMED, default or {})] if "primary" in index}
    out.line("def initial_step(run):")
    out.line("if run.trace is not None:", 1)
    out.line("return _generic(_stage, _ranked, _facts, run)", 2)
    out.line("primary = run.encounter.primary", 1)
    out.line("candidates = []", 1)
    for i in range(len(stage.keys)):
        out.line(f"first{i} = {{}}", 1)
    out.line("for event in run.events:", 1)
    out.line("values = event.values", 2)
    out.line(f"value = values.get({stage.ranked_field!r})", 2)
    out.line("if value not in _ranked:", 2)
    out.line("continue", 3)
    out.line(f"selector = values.get({stage.selector!r})" if stage.selector else "selector = None", 2)
    out.line("own = _ranks.get(selector, _default).get(value)", 2)
    out.line("if own is None:", 2)
    out.line("continue", 3)
    out.line("rank = own", 2)
    if promoted:
        out.line("if primary in event.ids:", 2)
        out.line("promotion = _promoted.get(selector if selector in _ranks else _UNNAMED)", 3)
        out.line("if promotion is not None and promotion[0] < rank and (not promotion[1] or value in promotion[1]):", 3)
        out.line("rank = promotion[0]", 4)
    ties = "".join(f"{_tie(tie, facts)}, " for tie in stage.ties)
    out.line(f"candidates.append((rank, ({ties}event.order), event, own, selector))", 2)
    _group(out, stage.keys)
    out.line("ordered_groups = sorted(groups.items(), key=_first_order)", 1)
    out.line("first_key = ordered_groups[0][0] if ordered_groups else None", 1)
    out.line("for key, members in ordered_groups:", 1)
    out.line("distinct = next((_keys[i] for i, (a, b) in enumerate(zip(key, first_key)) if a != b), 'none')", 2)
    out.line("if len(members) == 1:", 2)
    out.line("event = members[0][2]", 3)
    out.line("values = event.values", 3)
    out.line("values['distinct'] = distinct", 3)
    out.line("values['role'] = 'initial'", 3)
    out.line("values['repeats'] = None", 3)
    out.line("event.trail.append(_rule)", 3)
    out.line("continue", 3)
    out.line("chosen = min(members, key=BY_RANK)[2]", 2)
    out.line("events = sorted((c[2] for c in members), key=_order)", 2)
    out.line("if len(events) > _FEW:", 2)
    out.line("roles = Roles(_stage, chosen, events, _facts)", 3)
    out.line("for event in events:", 3)
    out.line("values = event.values", 4)
    out.line("values['distinct'] = distinct", 4)
    out.line("values['role'] = 'initial' if event is chosen else roles.role(event)", 4)
    out.line("values['repeats'] = roles.repeats(event)", 4)
    out.line("event.trail.append(_rule)", 4)
    out.line("roles.given(event)", 4)
    out.line("continue", 3)
    _few_roles(out, stage.ranked_field, _same(facts))
    ranked = frozenset(v for order in stage.rankings.values() for v in order)
    return out.compiled("initial_step", f"<infuse initial {stage.name}>", {
        "_generic": initial, "_stage": stage, "_ranked": ranked, "_facts": facts, "_ranks": ranks,
        "_default": default or {}, "_promoted": promoted, "_UNNAMED": _UNNAMED, "_keys": stage.keys,
        "BY_RANK": BY_RANK, "Roles": Roles, "_rule": f"initial/{stage.name}",
        "_FEW": _FEW, "_concurrent": stage.concurrent,
        "_first_order": lambda item: min(c[2].order for c in item[1]), "_order": lambda event: event.order})


def _few_roles(out: SourceWriter, field: str, same: str):
    """The roles of a group of a few events as initial.Roles gives them, what came before kept
    in lists and scanned (`earlier`: the (start, end, substance) of the concurrent events given;
    `ahead`: the initial event's, for the events before it), each value read where Roles reads it."""
    out.line(f"ahead = [(a, b, {same.format(event='chosen')}) for a, b in chosen.intervals] "
             f"if chosen.values.get({field!r}) in _concurrent else ()", 2)
    out.line("earlier = []", 2)
    out.line("first = set()", 2)
    out.line("last_role = {}", 2)
    out.line("for event in events:", 2)
    out.line("values = event.values", 3)
    out.line(f"substance = {same.format(event='event')}", 3)
    out.line("values['distinct'] = distinct", 3)
    out.line("if event is chosen:", 3)
    out.line("role = 'initial'", 4)
    out.line("else:", 3)
    out.line("role = 'repeat' if substance in first else 'sequential'", 4)
    out.line(f"if values.get({field!r}) in _concurrent:", 4)
    out.line("before = event.order < chosen.order", 5)
    out.line("for s, e in event.intervals:", 5)
    out.line("if any(a < e and s < b and other != substance for a, b, other in earlier) or "
             "(before and any(a < e and s < b and other != substance for a, b, other in ahead)):", 6)
    out.line("role = 'concurrent'", 7)
    out.line("break", 7)
    out.line("values['role'] = role", 3)
    out.line(f"values['repeats'] = last_role.get((substance, values.get({field!r})))", 3)
    out.line("event.trail.append(_rule)", 3)
    out.line(f"value = values.get({field!r})", 3)
    out.line("if value in _concurrent:", 3)
    out.line("earlier.extend((a, b, substance) for a, b in event.intervals)", 4)
    out.line("first.add(substance)", 3)
    out.line("last_role[(substance, value)] = role", 3)


def _same(facts: Facts) -> str:
    """The expression (of `{event}`) that makes two events alike (Facts.same)."""
    return f"{{event}}.values.get({facts.alike!r})" if facts.alike else "{event}.ids"


def _group(out: SourceWriter, keys: tuple):
    """The groups of the candidates as grouping.group_keys finds them, with the keys written
    out: a missing value takes the first documented one among the candidates before it
    agreeing on the keys before it (`first{i}`, by the documented values before it)."""
    for i, key in enumerate(keys):  # still inside the loop over the events: note the first values
        out.line(f"if (v{i} := values.get({key!r})) is not None:", 2)
        out.line(f"first{i}.setdefault(({''.join(f'v{j}, ' for j in range(i))}), v{i})", 3)
    out.line("groups = {}", 1)
    out.line("for candidate in candidates:", 1)
    out.line("values = candidate[2].values", 2)
    for i, key in enumerate(keys):
        out.line(f"if (v{i} := values.get({key!r})) is None:", 2)
        out.line(f"v{i} = first{i}.get(({''.join(f'v{j}, ' for j in range(i))}))", 3)
    out.line(f"groups.setdefault(({''.join(f'v{i}, ' for i in range(len(keys)))}), []).append(candidate)", 2)


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
