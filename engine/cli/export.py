"""`infuse export --jdm [PATH] -o DIR`: each decision table of a ruleset as a GoRules JDM decision.

JDM (JSON Decision Model) is the format GoRules ZEN reads: a graph of nodes, here an input
node, one `decisionTableNode` and an output node. Exporting lets the same table decisions be
run through ZEN, to compare answers and speed (bench/compare.py), or be handed to a team that
uses ZEN. Each cell becomes a ZEN unary test on its column's field: `*` is an empty cell,
sets are comma lists (`"im", "subq"`), comparisons and ranges keep their form with durations
as numbers of seconds (`> 900`, `[960..5400]`), a missing value is `$ == null`. Every rule
also outputs `_row`, the infuse row id, so a ZEN answer names the row that decided it.

Hit policies: `first` and `collect` are ZEN's own; `unique` is exported as `first` (the checker
has proved that no two rows overlap, so the first match is the only one); `priority` is
exported as `first` over the rows stably sorted by the rank of their first output, which
picks the same row as infuse's priority policy.

Files: DIR/<ruleset>@<version>/<table>.json for the base ruleset and each payer variant.
"""
from __future__ import annotations

import json
from pathlib import Path

from dsl.checked import CheckedRuleset, CheckedTable, FieldType, Predicate
from engine.io import output
from engine.cli.commands import help_of
from engine.cli.common import EXIT_OK, Unusable, add_cache_argument, fail, load_registry

ROW_FIELD = "_row"


def register(subparsers):
    parser = subparsers.add_parser("export", help=help_of("export"))
    parser.add_argument("--jdm", nargs="?", const="", required=True, metavar="PATH",
                        help="GoRules JDM, from the ruleset folder PATH (default: the bundled rulesets)")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write the decisions into")
    add_cache_argument(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    try:
        registry = load_registry(args.jdm or None, not args.no_cache)
    except Unusable as error:
        return fail(str(error))
    out = Path(args.output)
    written = []
    try:
        for family in registry.families:
            for ruleset in (family.base, *family.variants.values()):
                written += write_ruleset(ruleset, out)
    except OSError as error:
        return fail(f"cannot write {error.filename or args.output}: {error.strerror}")
    for path, count in written:  # reported once every file is written, so a closed pipe loses no file
        print(f"{path}: {count} row{'' if count == 1 else 's'}", file=output.stdout())
    return EXIT_OK


def write_ruleset(ruleset: CheckedRuleset, out: Path) -> list[tuple[Path, int]]:
    """Write one JDM file per decision table of `ruleset`; return each path and its rule count."""
    folder = out / f"{ruleset.name}@{ruleset.version}"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables(ruleset):
        path = folder / f"{table.name}.json"
        path.write_text(json.dumps(jdm_decision(table), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append((path, len(table.rows)))
    return written


def tables(ruleset: CheckedRuleset) -> list[CheckedTable]:
    return [stage for stage in ruleset.stages if isinstance(stage, CheckedTable)]


def jdm_decision(table: CheckedTable) -> dict:
    """The JDM document of one table: input node -> decision table node -> output node."""
    inputs = [{"id": f"in-{column}", "name": column, "field": column} for column in table.inputs]
    outputs = [{"id": f"out-{column}", "name": column, "field": column} for column in (ROW_FIELD, *table.outputs)]
    rules = []
    for row in _ordered_rows(table):
        rule = {"_id": row.id}
        for column, field_type, predicate in zip(table.inputs, table.input_types, row.predicates):
            rule[f"in-{column}"] = jdm_test(predicate, field_type)
        rule[f"out-{ROW_FIELD}"] = json.dumps(row.id)
        for column, value in zip(table.outputs, row.outputs):
            rule[f"out-{column}"] = jdm_value(value)
        rules.append(rule)
    content = {"hitPolicy": "collect" if table.policy == "collect" else "first",
               "inputs": inputs, "outputs": outputs, "rules": rules}
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
            {"id": table.name, "type": "decisionTableNode", "name": table.name, "position": {"x": 300, "y": 0},
             "content": content},
            {"id": "response", "type": "outputNode", "name": "Response", "position": {"x": 600, "y": 0}},
        ],
        "edges": [
            {"id": "request-table", "type": "edge", "sourceId": "request", "targetId": table.name},
            {"id": "table-response", "type": "edge", "sourceId": table.name, "targetId": "response"},
        ],
    }


def _ordered_rows(table: CheckedTable) -> list:
    """The rows in the order ZEN must try them (see the module docstring on `priority`)."""
    if table.policy != "priority":
        return list(table.rows)
    rank = {value: i for i, value in enumerate(table.priority)}
    return sorted(table.rows, key=lambda row: rank.get(row.outputs[0], len(rank)))


def jdm_test(predicate: Predicate, field_type: FieldType) -> str:
    """One input cell as a ZEN unary test ('' accepts anything)."""
    if predicate.kind == "any":
        return ""
    if predicate.kind == "missing":
        return "$ == null"
    if predicate.kind in ("in", "not_in"):
        listed = ", ".join(_literal(v) for v in sorted(predicate.values, key=repr))
        if predicate.kind == "in":
            return listed
        return f"$ != null and not ($ in [{listed}])"
    low, high = predicate.low, predicate.high
    if low is not None and high is not None:
        return f"{'[' if predicate.low_inclusive else '('}{low}..{high}{']' if predicate.high_inclusive else ')'}"
    if low is not None:
        return f"{'>=' if predicate.low_inclusive else '>'} {low}"
    if high is not None:
        return f"{'<=' if predicate.high_inclusive else '<'} {high}"
    return "$ != null"


def jdm_value(value) -> str:
    """One output cell as a ZEN expression ('' leaves the field out)."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return _literal(value)


def _literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)
