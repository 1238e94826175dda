"""What the benchmarks measure, built once and shared by bench/test_*.py and bench/compare.py.

A subject is one kind of work (a table decision, a whole encounter, a ruleset load) with
the candidates that do it: infuse's compiled engine, its reference evaluator, the
hand-written Python of bench/handwritten.py and, for tables, GoRules ZEN on the JDM that
`infuse export --jdm` writes. Each candidate is a function of no arguments that does the
whole batch and returns its raw answers; `check` says whether those answers are right, so
every measurement can be checked. Inputs are prepared outside the timed functions, in the
form each candidate takes (a dict of values for infuse and ZEN, positional arguments for a
hand-written function, JSON text for whole encounters).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import shutil
import tempfile
from pathlib import Path

import attrs

import engine
from bench import corpus, handwritten
from dsl import parser
from dsl.edit_data import forget_remembered
from dsl.checked import CheckedTable
from engine.core.coder import Coder
from engine.cli.check import check_folder
from engine.cli.export import ROW_FIELD, jdm_decision
from engine.core.compiled import CompiledTable, clear_generated
from engine.core.encounter import parse_encounter
from engine.core.pipeline import Pipeline
from engine.core.reference import ReferenceTable
from engine.core.registry import Registry

# The work itself is measured, as a process without the ruleset cache (dsl.cache) does it: a
# "cold" load builds the Lark grammar rather than loading it from the cache, and no benchmark
# writes to the user's cache folder (read when a load asks for the cache, not at import).
# bench/startup.py measures the cache, in fresh processes.
os.environ.setdefault("INFUSE_CACHE_DIR", "off")

ROOT = Path(__file__).resolve().parent.parent
RULESET_2026 = ROOT / "rulesets" / "2026"
WIDE_ROWS = 1000


@attrs.frozen
class Subject:
    """One kind of work: candidates by name, each a batch function, and the check of answers."""

    name: str
    size: int  # items per batch: a time per batch divided by it is a time per item
    candidates: dict  # label -> function() -> answers
    check: object  # function(label, answers) -> bool


@functools.cache
def coder(engine_name: str = "compiled") -> Coder:
    return engine.load(RULESET_2026, engine=engine_name)


def base_table(name: str) -> CheckedTable:
    ruleset = coder().registry.families[0].base
    return next(s for s in ruleset.stages if isinstance(s, CheckedTable) and s.name == name)


# ----- tables ---------------------------------------------------------------------------

def zen_decision(table: CheckedTable):
    """The ZEN decision for a table, or None where zen-engine is not installed."""
    try:
        import zen
    except ImportError:
        return None
    return zen.ZenEngine().create_decision(json.dumps(jdm_decision(table)))


def zen_version() -> str | None:
    try:
        from importlib import metadata
        return metadata.version("zen-engine")
    except Exception:
        return None


@functools.cache
def table_inputs(name: str, count: int) -> tuple:
    """`count` inputs of the 2026 table `name` as the typical day mix gives them."""
    seen = corpus.table_inputs(coder(), corpus.typical_day(max(200, count // 3), seed=11), name)
    return tuple(seen[i % len(seen)] for i in range(count))


def table_subject(name: str, count: int = 1000, wide: bool = False) -> Subject:
    """Decisions of the 2026 table `name` (or the wide coding table) on realistic inputs."""
    table = wide_coding_table() if wide else base_table(name)
    inputs = list(table_inputs(name, count))
    reference = ReferenceTable(table)
    expected = [tuple(row.id for row in reference.decide(values)) for values in inputs]
    hand = {"service": handwritten.service, "coding": handwritten.coding}[name]
    hand_args = [tuple(values[c] for c in base_table(name).inputs) for values in inputs]
    hand_expected = [_handwritten_outputs(name, reference.decide(values)) for values in inputs]
    compiled_decide = CompiledTable(table).decide
    reference_decide = reference.decide
    candidates = {
        "infuse compiled": lambda: [compiled_decide(values) for values in inputs],
        "infuse reference": lambda: [reference_decide(values) for values in inputs],
        "handwritten": lambda: [hand(*args) for args in hand_args],
    }
    decision = zen_decision(table)
    if decision is not None:
        evaluate = decision.evaluate
        candidates["zen"] = lambda: [evaluate(values) for values in inputs]

    def check(label, answers) -> bool:
        if label == "handwritten":
            return [a[:5] if name == "coding" else a for a in answers] == hand_expected
        if label == "zen":
            return [((a["result"][ROW_FIELD],) if a["result"] else ()) for a in answers] == expected
        return [tuple(row.id for row in rows) for rows in answers] == expected

    return Subject(f"{'wide ' if wide else ''}{name} table", count, candidates, check)


def _handwritten_outputs(name: str, rows) -> tuple:
    """The answer bench/handwritten.py gives for a table decision, from the table's rows."""
    if name == "service":
        service, findings = rows[0].outputs
        return (None if service == "none" else service), findings or ()
    if not rows:
        return None, None, None, None, ()
    code, units, addon, addon_units, findings = rows[0].outputs
    names = {None: None, "additional_hours": "additional", "hydration_hours": "hydration"}
    return code, names[units], addon, names[addon_units], findings or ()


# ----- the wide table -------------------------------------------------------------------

def wide_rules_folder(folder: Path, rows: int = WIDE_ROWS) -> Path:
    """A copy of rulesets/2026 whose coding table starts with `rows` rows that never match
    a real encounter: each asks for a gap since the same drug of more than 100 hours. They
    come first, so a row scan tries them all before any real row."""
    target = folder / "2026-wide"
    shutil.copytree(RULESET_2026, target)
    coding = target / "coding.rules"
    text = coding.read_text(encoding="utf-8")
    header = next(line for line in text.splitlines() if line.lstrip().startswith("id ") and "=> code" in line)
    inputs = [cell.strip() for cell in header.split("=>")[0].split("|")[1:]]
    outputs = len(header.split("=>")[1].split("|"))
    services = ("chemo_infusion", "chemo_push", "infusion", "push", "hydration", "subq_infusion", "injection")
    roles = ("initial", "sequential", "repeat", "concurrent")
    extra = []
    for i in range(rows):
        cells = {"service": services[i % len(services)], "role": roles[i // len(services) % len(roles)],
                 "gap": f"> {100 + i} h"}
        extra.append(f"  wide-{i:04d} | " + " | ".join(cells.get(name, "*") for name in inputs)
                     + " => 96365" + " |" * (outputs - 1))
    coding.write_text(text.replace(header, "\n".join([header, *extra]), 1), encoding="utf-8")
    return target


@functools.cache
def wide_coding_table() -> CheckedTable:
    with tempfile.TemporaryDirectory() as folder:
        registry = Registry.from_path(wide_rules_folder(Path(folder)))
    table = next(s for s in registry.families[0].base.stages if isinstance(s, CheckedTable) and s.name == "coding")
    assert len(table.rows) == len(base_table("coding").rows) + WIDE_ROWS
    return table


# ----- the wide unique table -------------------------------------------------------------

WIDE_UNIQUE_ROWS = 5000


def wide_unique_folder(folder: Path, rows: int = WIDE_UNIQUE_ROWS) -> Path:
    """A copy of rulesets/2026 with, last, a `unique` table of `rows` disjoint duration ranges
    (`2i min .. 2i+1 min`), by route or for any route, each raising an info finding: every
    pair of rows must be shown apart, every row reachable, every bound indexed."""
    target = folder / "2026-wide-unique"
    shutil.copytree(RULESET_2026, target)
    routes = ("iv", "im", "subq", "*", "not iv")
    lines = ["finding wide-duration info [cpt]", '  "The duration falls in one of many ranges."', "",
             "table wide unique per administration [cpt]", "  id | route | duration => finding"]
    lines += [f"  wide-{i:05d} | {routes[i % len(routes)]} | {2 * i} min .. {2 * i + 1} min => wide-duration"
              for i in range(rows)]
    (target / "wide.rules").write_text("\n".join(lines) + "\n", encoding="utf-8")
    base = target / "ruleset.rules"
    base.write_text(base.read_text(encoding="utf-8") + 'include "wide.rules"\n', encoding="utf-8")
    return target


def wide_unique_subject(folder: Path) -> Subject:
    """The two costs of a wide unique table, each as a fresh process pays them: `infuse check`
    (load, every overlap sought, the analyses) and a load that codes one encounter (the
    compiled indexes and decision tree of every table)."""
    rules = wide_unique_folder(folder)
    sample = {"id": "wide", "date": "2026-03-01", "claim": "facility", "administrations": [  # row wide-00015
        {"id": "a1", "drug": "ceftriaxone", "category": "therapeutic", "route": "iv", "method": "infusion",
         "start": "2026-03-01T10:00", "stop": "2026-03-01T10:30"}]}

    def check():
        parser._lark.cache_clear()
        clear_generated()
        return check_folder(rules)

    def load_and_code():
        parser._lark.cache_clear()
        clear_generated()
        return engine.load(rules).code(sample)

    def right(label, answer) -> bool:
        if label == "check":
            return answer["summary"]["loaded"] and not any(d.severity == "error" for d in answer["diagnostics"])
        return any(finding.rule == "wide/wide-00015" for finding in answer.findings)

    return Subject("wide unique table", 1, {"check": check, "load and code one": load_and_code}, right)


# ----- whole encounters -------------------------------------------------------------------

@functools.cache
def encounter_texts(shape: str, count: int) -> tuple:
    """`count` encounters of a named shape (bench/corpus.py), as JSON text."""
    return tuple(json.dumps(e) for e in getattr(corpus, shape)(count, seed=5))


def encounter_subject(shape: str, count: int, engines=("infuse compiled", "infuse reference", "handwritten")) -> Subject:
    """Whole encounters, JSON text in and JSON text out, one at a time as a scrubber codes them."""
    texts = encounter_texts(shape, count)
    loads, dumps = json.loads, json.dumps
    compiled, reference = coder("compiled").code, coder("reference").code
    code_by_hand = handwritten.code_encounter
    every = {
        "infuse compiled": lambda: [dumps(compiled(loads(text)).as_dict()) for text in texts],
        "infuse reference": lambda: [dumps(reference(loads(text)).as_dict()) for text in texts],
        "handwritten": lambda: [dumps(code_by_hand(loads(text))) for text in texts],
    }
    expected = [_lines(coder().code(json.loads(text)).as_dict()) for text in texts]

    def check(label, answers) -> bool:
        return [_lines(json.loads(answer)) for answer in answers] == expected

    return Subject(f"{shape} encounters", count, {k: every[k] for k in engines}, check)


def _lines(result: dict) -> list:
    return [(line["code"], line["units"], line["modifiers"], line["date"]) for line in result["lines"]]


# ----- loading ----------------------------------------------------------------------------

def load_cold() -> list:
    """Parse, check and compile the 2026 family (base and payer variants) with every cache
    cleared, the grammar included; return the pipelines."""
    parser._lark.cache_clear()
    return load_warm()


def load_warm() -> list:
    """Parse, check and compile the 2026 family with the grammar already built (no table
    code generated yet, as in a fresh process)."""
    clear_generated()
    forget_remembered()
    return _pipelines(Registry.from_path(RULESET_2026))


def _pipelines(registry: Registry) -> list:
    live = Coder(registry)
    return [live.pipeline(ruleset) for family in registry.families for ruleset in (family.base, *family.variants.values())]


def ruleset_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.rules")):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_blob() -> tuple[str, bytes]:
    """(digest of the rule files, pickled checked registry): what a ruleset cache would store."""
    return ruleset_digest(RULESET_2026), pickle.dumps(Registry.from_path(RULESET_2026))


def load_cached(blob: tuple[str, bytes]) -> list:
    """A prototype of a ruleset cache (infuse has none yet): check the rule files' digest,
    unpickle the checked registry and compile its pipelines."""
    digest, data = blob
    if ruleset_digest(RULESET_2026) != digest:
        raise RuntimeError("the ruleset changed since the cache was written")
    clear_generated()
    return _pipelines(pickle.loads(data))


def load_subject() -> Subject:
    blob = cache_blob()
    candidates = {"cold": load_cold, "warm (grammar built)": load_warm, "cached (prototype)": lambda: load_cached(blob)}
    sample = json.loads(encounter_texts("typical_day", 20)[3])
    expected = coder().code(sample)

    def check(label, pipelines) -> bool:
        chosen = next((p for p in pipelines if p.ruleset.payer == sample.get("payer")), pipelines[0])  # base first
        encounter = parse_encounter(sample, chosen.ruleset.input)
        return isinstance(chosen, Pipeline) and chosen.run(encounter).lines == expected.lines

    return Subject("ruleset load", 1, candidates, check)
