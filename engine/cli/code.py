"""`infuse code PATH|-`: code encounters; one output record per input record, in order.

This module reads the arguments and picks the defaults; engine.io.batch does the streaming and
the worker processes, engine.io.output the atomic output file and the checks on writing,
engine.io.parquet the reading and writing of .parquet files (only imported for them: pyarrow
is the optional extra infuse[parquet]). File extensions are told apart in any case.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys

from dsl.loader import UnknownPayer
from engine.io import batch
from engine.io import output
from engine.core.coder import ENGINES, Coder
from engine.cli.commands import help_of
from engine.cli.common import EXIT_OK, EXIT_REJECTED, Unusable, add_cache_argument, fail, load_registry
from engine.io.render import FORMATS


def register(subparsers):
    parser = subparsers.add_parser("code", help=help_of("code"))
    parser.add_argument("path")
    parser.add_argument("--ruleset", help="a ruleset folder, or a folder of year folders (default: the bundled rulesets)")
    parser.add_argument("--payer", help="apply this payer's variant whatever the encounters say")
    parser.add_argument("--format", choices=FORMATS,
                        help="default: table on a terminal, else json (jsonl for .jsonl and .parquet input); "
                             "-o FILE.parquet writes Parquet")
    parser.add_argument("--engine", choices=tuple(ENGINES), default="compiled")
    parser.add_argument("--jobs", "-j", type=_positive, metavar="N",
                        help="worker processes for a batch (default: the number of CPUs)")
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="write the records to FILE, which appears only once complete (Parquet if FILE ends in .parquet)")
    add_cache_argument(parser)
    parser.add_argument("--spark", nargs="?", const="local[*]", metavar="MASTER",
                        help="code a Parquet file or folder on Spark (default master: local[*]) into the Parquet "
                             "dataset -o OUTPUT.parquet (needs pip install 'infuse[spark]')")
    parser.set_defaults(run=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number; got {text!r}")
    return value


def _check_payer(coder: Coder, payer: str) -> None:
    """A payer no ruleset knows (by a variant or a route) has no policy to code with."""
    for family in coder.registry.families:
        if payer in family.known_payers:
            return
    raise Unusable(str(UnknownPayer(payer, sorted({p for f in coder.registry.families for p in f.known_payers}))))


def _parquet():
    """engine.io.parquet, or Unusable saying how to install pyarrow."""
    try:
        return importlib.import_module("engine.io.parquet")
    except ModuleNotFoundError as error:
        if error.name is None or error.name.partition(".")[0] != "pyarrow":
            raise
        raise Unusable("reading or writing .parquet files needs pyarrow; "
                       "install it with: pip install 'infuse[parquet]'") from None


def run(args) -> int:
    if args.spark:
        from engine.cli import spark_code  # Spark only when asked for: pyspark is the extra infuse[spark]
        return spark_code.run(args)
    terminal = args.output is None and output.stdout().stream.isatty()
    parquet_in = batch.extension(args.path) == ".parquet"
    parquet_out = args.output is not None and batch.extension(args.output) == ".parquet"
    try:
        if parquet_out and args.format:
            raise Unusable(f"--format {args.format} is for text output; -o {args.output} writes Parquet")
        parquet = _parquet() if parquet_in or parquet_out else None
        coder = Coder(load_registry(args.ruleset, not args.no_cache), args.engine, args.payer)
        if args.payer:
            _check_payer(coder, args.payer)
    except Unusable as error:
        return fail(str(error))
    try:
        source = parquet.open_source(args.path) if parquet_in else batch.open_source(args.path)
    except batch.InputError as error:
        return fail(str(error))
    single = batch.extension(args.path) == ".json"
    fmt = "parquet" if parquet_out else args.format or ("table" if terminal else "json" if single else "jsonl")
    ruleset = None if args.ruleset is None else os.path.abspath(args.ruleset)
    spec = batch.CoderSpec(ruleset, args.engine, args.payer, cache=not args.no_cache)
    # Records printed on the terminal are their own progress; a progress line would cut into them.
    shows_progress = sys.stderr.isatty() and not terminal
    progress = batch.Progress(sys.stderr, source.total) if shows_progress else None
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(source)
            stack.enter_context(batch.terminate_as_exit())
            try:
                if args.output is None:
                    out = output.stdout()
                elif parquet_out:
                    out = stack.enter_context(parquet.atomic_output(args.output))
                else:
                    out = output.Checked(stack.enter_context(output.atomic_output(args.output)), args.output)
            except OSError as error:
                return fail(f"cannot write {args.output}: {error.strerror}")
            # Workers forked from a process that has loaded pyarrow would each count it again.
            tally = batch.code_chunks(source.chunks, out, batch.ChunkCoder(coder, fmt), spec,
                                      args.jobs or os.cpu_count() or 1, progress, spawn=parquet is not None)
    except batch.InputError as error:  # the output, if any, was not written
        return fail(str(error))
    if args.jobs or args.output or sys.stderr.isatty():
        print(tally.summary(), file=sys.stderr)
    return EXIT_REJECTED if tally.rejected else EXIT_OK
