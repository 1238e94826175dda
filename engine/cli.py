"""The `infuse` command line: code encounters, check a ruleset.

Exit status: 0 all coded, 1 some records rejected (or ruleset errors for
`check`), 2 unusable arguments or ruleset.
"""
from __future__ import annotations

import argparse
import json
import sys
from importlib import metadata

from dsl.diagnostics import RulesetError, render_all
from engine.api import ENGINES, Coder
from engine.encounter import EncounterError
from engine.registry import Registry
from engine.render import render_table

EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE = 0, 1, 2


def _version() -> str:
    try:
        return metadata.version("infuse")
    except metadata.PackageNotFoundError:
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="infuse", description="Code drug administration encounters with a versioned ruleset.")
    parser.add_argument("--version", action="version", version=f"infuse {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    code = commands.add_parser("code", help="code encounters: a .json file (one), a .jsonl file (one per line) or - (stdin)")
    code.add_argument("path")
    code.add_argument("--ruleset", help="a ruleset folder, or a folder of year folders (default: the bundled rulesets)")
    code.add_argument("--payer", help="apply this payer's variant whatever the encounters say")
    code.add_argument("--format", choices=("table", "json", "jsonl"), help="default: table on a terminal, else json (jsonl for .jsonl input)")
    code.add_argument("--engine", choices=tuple(ENGINES), default="compiled")
    check = commands.add_parser("check", help="check a ruleset folder and print its diagnostics")
    check.add_argument("path")
    check.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return _check(args)
        return _code(args)
    except BrokenPipeError:
        return EXIT_OK


def _load(path) -> Registry:
    return Registry.from_path(path)


def _check(args) -> int:
    try:
        registry = _load(args.path)
    except RulesetError as error:
        _print_diagnostics(error, args.format)
        return EXIT_REJECTED if any(d.severity == "error" for d in error.diagnostics) else EXIT_OK
    except (FileNotFoundError, NotADirectoryError) as error:
        print(f"infuse: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    for family in registry.families:
        names = ", ".join([family.base.name, *(v.name for v in family.variants.values())])
        print(f"ok: {names} {family.base.version} ({family.base.effective[0]} .. {family.base.effective[1]})")
    return EXIT_OK


def _print_diagnostics(error: RulesetError, fmt: str):
    if fmt == "json":
        print(json.dumps([d.as_dict() for d in error.diagnostics], indent=2))
    else:
        print(render_all(error.diagnostics, error.sources), file=sys.stderr)


def _records(path: str):
    """(line number, raw bytes) per record: the whole file for .json, one per line otherwise."""
    stream = sys.stdin.buffer if path == "-" else open(path, "rb")
    with stream:
        if path.endswith(".json"):
            yield 1, stream.read()
            return
        for number, raw in enumerate(stream, start=1):
            yield number, raw.rstrip(b"\r\n")


def _code(args) -> int:
    try:
        coder = Coder(_load(args.ruleset), args.engine, args.payer)
    except RulesetError as error:
        print(render_all(error.diagnostics, error.sources), file=sys.stderr)
        return EXIT_UNUSABLE
    except (FileNotFoundError, NotADirectoryError) as error:
        print(f"infuse: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    if args.path != "-" and not _is_file(args.path):
        print(f"infuse: no such file: {args.path}", file=sys.stderr)
        return EXIT_UNUSABLE
    fmt = args.format or ("table" if sys.stdout.isatty() else "jsonl" if not args.path.endswith(".json") else "json")
    rejected = 0
    out = sys.stdout
    for number, raw in _records(args.path):
        record = _code_one(coder, number, raw)
        rejected += "error" in record
        if fmt == "jsonl":
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        elif fmt == "json":
            out.write(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        else:
            out.write(render_table(record) + "\n")
    return EXIT_REJECTED if rejected else EXIT_OK


def _is_file(path: str) -> bool:
    try:
        with open(path, "rb"):
            return True
    except OSError:
        return False


def _code_one(coder: Coder, number: int, raw: bytes) -> dict:
    """One output record for one input record: a result, or an error naming the path."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        return _error_record(number, None, "", f"not UTF-8 text (byte {error.start})")
    except ValueError as error:
        return _error_record(number, None, "", f"not valid JSON: {error}")
    encounter_id = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
    try:
        return coder.code(data).as_dict()
    except EncounterError as error:
        return _error_record(number, encounter_id, error.path, error.message)
    except RecursionError:
        return _error_record(number, encounter_id, "", "the record is nested too deeply")


def _error_record(number: int, encounter_id, path: str, message: str) -> dict:
    return {"line": number, "encounter": encounter_id, "error": {"path": path, "message": message}}


def run() -> None:
    sys.exit(main())
