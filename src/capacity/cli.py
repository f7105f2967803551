"""The ``capacity`` command.

``capacity report`` prints the embedded Ganzhou estate. Every command takes
``--format text|json``. Bad input exits with status 2 and a one-line message per
problem, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from capacity.errors import CapacityError, ValidationError

__all__ = ["main"]

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage block; one line says enough and scripts can parse it.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _emit(data: dict[str, Any], fmt: str, render: Callable[[dict[str, Any]], str]) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render(data) + "\n")


def _report(args: argparse.Namespace) -> int:
    from capacity.datasets import ganzhou
    from capacity.report import render_text, scenario_report

    _emit(scenario_report(ganzhou()), args.format, render_text)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="capacity", description="Capacity planning for data-centre estates.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    rep = sub.add_parser("report", help="report the embedded Ganzhou estate")
    rep.add_argument("--format", choices=("text", "json"), default="text")
    rep.set_defaults(func=_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except ValidationError as exc:
        for problem in exc.problems:
            sys.stderr.write(f"capacity: error: {exc.message}: {problem}\n")
        return EXIT_USAGE
    except CapacityError as exc:
        sys.stderr.write(f"capacity: error: {exc}\n")
        return EXIT_USAGE
    return status


if __name__ == "__main__":
    sys.exit(main())
