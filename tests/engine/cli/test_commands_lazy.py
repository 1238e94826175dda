"""Subcommand modules are imported only when their command runs (engine.cli.commands): the
static list's help lines are the modules' own, and `infuse --help` lists every command."""
from __future__ import annotations

import argparse

import pytest

from engine.cli.commands import COMMANDS
from engine.cli.main import build_parser, main


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
def test_the_listed_help_is_the_modules_own(command):
    subparsers = argparse.ArgumentParser().add_subparsers()
    command.load().register(subparsers)
    [action] = subparsers._choices_actions
    assert (action.dest, action.help) == (command.name, command.help)


def test_help_lists_every_command_with_its_help(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    for command in COMMANDS:
        assert f"{command.name} {' '.join(command.help.split())}" in shown


def test_only_the_chosen_command_gets_its_full_parser():
    parser = build_parser(["code", "x.json", "--format", "json"])
    args = parser.parse_args(["code", "x.json", "--format", "json"])
    assert args.command == "code" and args.format == "json" and args.no_cache is False
    full = build_parser()
    assert full.parse_args(["check", "somewhere"]).command == "check"
