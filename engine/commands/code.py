"""`infuse code PATH|-`: code encounters; one output record per input record, in order."""
from __future__ import annotations

import json
import sys

from engine.api import ENGINES, Coder
from engine.commands.common import EXIT_OK, EXIT_REJECTED, Unusable, fail, load_registry
from engine.encounter import EncounterError
from engine.render import render_table


def register(subparsers):
    parser = subparsers.add_parser("code", help="code encounters: a .json file (one), a .jsonl file (one per line) or - (stdin)")
    parser.add_argument("path")
    parser.add_argument("--ruleset", help="a ruleset folder, or a folder of year folders (default: the bundled rulesets)")
    parser.add_argument("--payer", help="apply this payer's variant whatever the encounters say")
    parser.add_argument("--format", choices=("table", "json", "jsonl"),
                        help="default: table on a terminal, else json (jsonl for .jsonl input)")
    parser.add_argument("--engine", choices=tuple(ENGINES), default="compiled")
    parser.set_defaults(run=run)


def run(args) -> int:
    try:
        coder = Coder(load_registry(args.ruleset), args.engine, args.payer)
    except Unusable as error:
        return fail(str(error))
    try:
        stream = sys.stdin.buffer if args.path == "-" else open(args.path, "rb")
    except OSError as error:
        return fail(f"cannot read {args.path}: {error.strerror}")
    single = args.path.endswith(".json")
    fmt = args.format or ("table" if sys.stdout.isatty() else "json" if single else "jsonl")
    rejected = 0
    with stream:
        for number, raw in read_records(stream, single):
            record = code_record(coder, number, raw)
            rejected += "error" in record
            sys.stdout.write(format_record(record, fmt) + "\n")
    return EXIT_REJECTED if rejected else EXIT_OK


def read_records(stream, single: bool):
    """(record number, raw bytes): the whole stream for one .json encounter, else one per line."""
    if single:
        yield 1, stream.read()
        return
    for number, raw in enumerate(stream, start=1):
        yield number, raw.rstrip(b"\r\n")


def format_record(record: dict, fmt: str) -> str:
    if fmt == "jsonl":
        return json.dumps(record, ensure_ascii=False)
    if fmt == "json":
        return json.dumps(record, indent=2, ensure_ascii=False)
    return render_table(record)


def code_record(coder: Coder, number: int, raw: bytes) -> dict:
    """One output record for one input record: a result, or an error naming the path."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        return error_record(number, None, "", f"not UTF-8 text (byte {error.start})")
    except RecursionError:
        return error_record(number, None, "", "the record is nested too deeply")
    except ValueError as error:
        return error_record(number, None, "", f"not valid JSON: {error}")
    encounter_id = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
    try:
        return coder.code(data).as_dict()
    except EncounterError as error:
        return error_record(number, encounter_id, error.path, error.message)


def error_record(number: int, encounter_id, path: str, message: str) -> dict:
    return {"line": number, "encounter": encounter_id, "error": {"path": path, "message": message}}
