"""`infuse explain` as a coder reads it on a terminal: the story (engine.analyst.story) in
sections, each decision with its row, file and line."""
from __future__ import annotations

from engine.analyst.story import Decision, EventStory, Explanation


def render_text(story: Explanation) -> str:
    """The explanation as a coder reads it on a terminal."""
    ruleset = story.ruleset
    variant = f", payer variant {ruleset['payer']}" if ruleset["payer"] else ""
    out = [f"Encounter {story.encounter} on {story.date}: " + "; ".join(f"{k} {v}" for k, v in story.fields),
           f"Ruleset {ruleset['name']} {ruleset['version']}{variant} ({ruleset['digest']}), reference semantics",
           "", "Result"]
    for line in story.result["lines"]:
        modifiers = "-" + "-".join(line["modifiers"]) if line["modifiers"] else ""
        on = f"  for {', '.join(line['administrations'])}" if line["administrations"] else ""
        out.append(f"  {line['code']}{modifiers} x{line['units']}  {line['date']}{on}")
    if not story.result["lines"]:
        out.append("  no lines to report")
    for finding in story.findings:
        on = f" [{', '.join(finding.administrations)}]" if finding.administrations else ""
        out.append(f"  {finding.severity}: {finding.id}{on}")

    out += ["", f"Events: {story.kind}"]
    for event in story.events:
        out.append(f"  {event.id}  {'; '.join(f'{k} {v}' for k, v in event.fields)}{_time(event)}")
        out += [f"      {line}" for d in event.decisions for line in _decision_lines(d)]
    for merge in story.merges:
        out += ["", f"Merged by {merge.merge} ({merge.location})",
                f"  {_ids(merge.administrations)}: {merge.counted} counted, {merge.removed} removed as overlap"]
        out += [f"      {line}" for d in merge.decisions for line in _decision_lines(d)]

    for group in story.groups:
        keys = ", ".join(f"{k} {v}" for k, v in group.group)
        distinct = f"; a further group, distinct by {group.distinct}" if group.distinct != "none" else ""
        out += ["", f"Initial service by {group.initial} ({group.location}): {keys}{distinct}",
                f"  ranking {group.ranking}",
                f"  chosen: {group.choice}"]
        for member in group.members:
            out.append(f"  {_ids(member.administrations)}  {member.value} (rank {member.rank}): "
                       f"{member.role}: {member.reason}")

    out += ["", "Codes"]
    for coding in story.coding:
        d = coding.decision
        if d.row is None:
            seen = ", ".join(f"{k} {v}" for k, v in coding.inputs)
            out.append(f"  {_ids(coding.administrations)}: no code: no row of {d.table} matches {seen}")
        else:
            out.append(f"  {_ids(coding.administrations)}: {_outputs(d) or 'no code'} by row {d.table}/{d.row} ({d.location})")
            if d.conditions:
                out.append(f"      because {'; '.join(c.text for c in d.conditions)}")
        for units in coding.units:
            out.append(f"      units of {units.code} by {units.rule} ({units.location}): {units.text}")
        for m in coding.modifiers:
            out.append(f"      {_outputs(m)} on {m.code} by row {m.table}/{m.row} ({m.location}): "
                       f"{'; '.join(c.text for c in m.conditions)}")
        for edit in story.edits:
            if edit.administrations == coding.administrations:
                out.append(f"      then edit {edit.edit}: {edit.text}")
        for why in coding.why_not:
            out.append(f"      why not {why.code}: {why.reason} [{why.rule}, {why.location}]")

    if story.edits:
        out += ["", "Edits"]
        for edit in story.edits:
            out += [f"  {edit.edit} ({edit.location}): {edit.text}", f"      {edit.clause}"]
    if story.others:
        out += ["", "Other events"]
        for d in story.others:
            out.append(f"  {d.code}: {_outputs(d)} by row {d.table}/{d.row} ({d.location})")
            if d.conditions:
                out.append(f"      because {'; '.join(c.text for c in d.conditions)}")
    if story.findings:
        out += ["", "Findings"]
        for f in story.findings:
            on = f" on {', '.join(f.administrations)}" if f.administrations else ""
            out += [f"  {f.id} ({f.severity}){on}: {f.message}",
                    f"      raised by {f.rule}" + (f" ({f.location})" if f.location else ""),
                    f"      reference: {f.reference}"]
    return "\n".join(out) + "\n"


def _time(event: EventStory) -> str:
    """`; 2026-03-14 10:02 to 10:04: 2 min` (the stop's date only when it differs); none untimed."""
    if event.start is None:
        return ""
    if not event.stop:
        return f"; {event.start}, no stop time"
    same_day = event.stop.split(" ")[0] == event.start.split(" ")[0]
    return f"; {event.start} to {event.stop.split(' ', 1)[1] if same_day else event.stop}: {event.minutes}"


def _decision_lines(d: Decision) -> list[str]:
    head = f"{_outputs(d) or 'no output'} by row {d.table}/{d.row} ({d.location})"
    return [head] + ([f"    because {'; '.join(c.text for c in d.conditions)}"] if d.conditions else [])


def _outputs(d: Decision) -> str:
    return ", ".join(f"{column} {value}" for column, value in d.outputs)


def _ids(ids) -> str:
    return " + ".join(ids)
