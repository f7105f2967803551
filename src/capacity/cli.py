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
    from capacity.projection import project
    from capacity.report import plan_report, projection_report, render_text, scenario_report

    scenario = ganzhou()
    projection = project(scenario, start=args.start, end=args.end, n_paths=args.paths,
                         seed=args.seed)
    data = scenario_report(scenario)
    data["plan"] = plan_report(scenario, projection)
    data["projection"] = projection_report(projection, args.alpha)
    _emit(data, args.format, render_text)
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def _probability(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="capacity", description="Capacity planning for data-centre estates.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    rep = sub.add_parser("report", help="report the embedded Ganzhou estate")
    rep.add_argument("--format", choices=("text", "json"), default="text")
    rep.add_argument("--start", default="2025-01", help="first month (YYYY-MM)")
    rep.add_argument("--end", default="2030-12", help="last month (YYYY-MM)")
    rep.add_argument("--paths", type=_positive_int, default=2000, help="Monte Carlo paths")
    rep.add_argument("--seed", type=int, default=0, help="random seed")
    rep.add_argument("--alpha", type=_probability, default=0.05,
                     help="accepted probability of shortfall for the cabinets still needed")
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
