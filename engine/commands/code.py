"""`infuse code PATH|-`: code encounters; one output record per input record, in order.

This module reads the arguments and picks the defaults; engine.batch does the streaming,
the worker processes and the atomic output.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

from dsl.diagnostics import did_you_mean
from engine import batch
from engine.api import ENGINES, Coder
from engine.commands.common import EXIT_OK, EXIT_REJECTED, Unusable, fail, load_registry
from engine.render import FORMATS


def register(subparsers):
    parser = subparsers.add_parser("code", help="code encounters: a .json file (one), a .jsonl file (one per line) or - (stdin)")
    parser.add_argument("path")
    parser.add_argument("--ruleset", help="a ruleset folder, or a folder of year folders (default: the bundled rulesets)")
    parser.add_argument("--payer", help="apply this payer's variant whatever the encounters say")
    parser.add_argument("--format", choices=FORMATS,
                        help="default: table on a terminal, else json (jsonl for .jsonl input)")
    parser.add_argument("--engine", choices=tuple(ENGINES), default="compiled")
    parser.add_argument("--jobs", "-j", type=_positive, metavar="N",
                        help="worker processes for a batch (default: the number of CPUs)")
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="write the records to FILE, which appears only once complete")
    parser.set_defaults(run=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number; got {text!r}")
    return value


def _warn_unknown_payer(coder: Coder, payer: str) -> None:
    """A payer no ruleset has a variant for gets the default policy; say so, as it may be a typo."""
    known = {name for family in coder.registry.families for name in family.variants}
    if payer not in known:
        hint = did_you_mean(payer, known)
        print(f"infuse: warning: no ruleset has a variant for payer '{payer}', so the default policy applies"
              + (f" ({hint})" if hint else ""), file=sys.stderr)


def run(args) -> int:
    try:
        coder = Coder(load_registry(args.ruleset), args.engine, args.payer)
    except Unusable as error:
        return fail(str(error))
    if args.payer:
        _warn_unknown_payer(coder, args.payer)
    try:
        stream = sys.stdin.buffer if args.path == "-" else open(args.path, "rb")
    except OSError as error:
        return fail(f"cannot read {args.path}: {error.strerror}")
    single = args.path.endswith(".json")
    terminal = args.output is None and sys.stdout.isatty()
    fmt = args.format or ("table" if terminal else "json" if single else "jsonl")
    ruleset = None if args.ruleset is None else os.path.abspath(args.ruleset)
    spec = batch.CoderSpec(ruleset, args.engine, args.payer)
    # Records printed on the terminal are their own progress; a progress line would cut into them.
    shows_progress = sys.stderr.isatty() and not terminal
    progress = batch.Progress(sys.stderr, batch.input_size(stream)) if shows_progress else None
    with contextlib.ExitStack() as stack:
        stack.enter_context(stream)
        stack.enter_context(batch.terminate_as_exit())
        try:
            out = stack.enter_context(batch.atomic_output(args.output)) if args.output else sys.stdout
        except OSError as error:
            return fail(f"cannot write {args.output}: {error.strerror}")
        tally = batch.code_stream(stream, single, out, batch.ChunkCoder(coder, fmt), spec,
                                  args.jobs or os.cpu_count() or 1, progress)
    if args.jobs or args.output or sys.stderr.isatty():
        print(tally.summary(), file=sys.stderr)
    return EXIT_REJECTED if tally.rejected else EXIT_OK
