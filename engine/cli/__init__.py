"""The `infuse` command line: argument parsing and exit statuses, one module per subcommand
(engine.cli.commands lists them). The top layer: it may import every other."""
from engine.cli.main import main, run

__all__ = ["main", "run"]
