"""`infuse fmt PATH... [--check]`: lay out rule files canonically (dsl.formatter).

A folder stands for every `.rules` file below it. Without `--check` the files are
rewritten in place; with it nothing changes and the files that would are listed.
Exit status: 0 nothing (more) to do, 1 `--check` found files to reformat, 2 a path or
file that cannot be read or parsed.
"""
from __future__ import annotations

import sys
from pathlib import Path

from dsl.confine import inside, outside_message
from dsl.diagnostics import RulesetError, render_all
from dsl.formatter import format_text
from engine.io import output
from engine.cli.commands import help_of
from engine.cli.common import EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE, fail


def register(subparsers):
    parser = subparsers.add_parser("fmt", help=help_of("fmt"))
    parser.add_argument("paths", nargs="+", metavar="PATH", help="a .rules file, or a folder of them")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 listing the files that would change")
    parser.set_defaults(run=run)


def run(args) -> int:
    files = []  # (file, the folder it was found in, or None when named itself)
    for name in args.paths:
        path = Path(name)
        if path.is_dir():
            files += [(found, path) for found in sorted(path.rglob("*.rules"))]
        elif path.is_file():
            files.append((path, None))
        else:
            return fail(f"no file or folder {name}")
    changed, unusable = [], False
    for path, folder in files:
        if folder is not None and not inside(path, folder):  # never rewrite a file elsewhere
            print(f"infuse: {outside_message(str(path))}", file=sys.stderr)
            unusable = True
            continue
        try:
            text = path.read_text(encoding="utf-8")
            formatted = format_text(text, str(path))
        except (OSError, UnicodeDecodeError) as error:
            print(f"infuse: cannot read {path}: {error}", file=sys.stderr)
            unusable = True
            continue
        except RulesetError as error:
            print(render_all(error.diagnostics, error.sources), file=sys.stderr)
            unusable = True
            continue
        if formatted != text:
            changed.append(path)
            if not args.check:
                path.write_text(formatted, encoding="utf-8", newline="")
    for path in changed:
        print(f"{'would reformat' if args.check else 'reformatted'} {path}", file=output.stdout())
    if unusable:
        return EXIT_UNUSABLE
    return EXIT_REJECTED if args.check and changed else EXIT_OK
