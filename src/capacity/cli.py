"""The ``capacity`` command.

``capacity report`` runs the embedded Ganzhou scenario; ``capacity run SCENARIO.toml``
projects, allocates and costs a scenario file; ``capacity compare A.toml B.toml`` shows
the differences that matter. Every command takes ``--format text|json``. Bad input exits
with status 2 and a one-line message per problem (file, field, reason), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from capacity.errors import CapacityError, FieldError, ValidationError

__all__ = ["main"]

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage block; one line says enough and scripts can parse it.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _emit(data: dict[str, Any], fmt: str, render: Callable[[dict[str, Any]], str]) -> None:
    if fmt == "json":
        from capacity.report import to_data

        sys.stdout.write(json.dumps(to_data(data), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render(data) + "\n")


def _study(scenario: Any, args: argparse.Namespace) -> Any:
    from capacity.report import run_study

    return run_study(scenario, start=args.start, end=args.end, n_paths=args.paths,
                     seed=args.seed, month=args.month, time_limit=args.time_limit,
                     node_limit=args.node_limit)


def _report(args: argparse.Namespace) -> int:
    from capacity.datasets import ganzhou
    from capacity.report import full_report, render_text

    study = _study(ganzhou(), args)
    _emit(full_report(study, args.alpha), args.format, render_text)
    _plots(study, args)
    return 0


def _run(args: argparse.Namespace) -> int:
    from capacity.report import full_report, render_text
    from capacity.scenario import Scenario

    study = _study(Scenario.from_toml(args.scenario), args)
    _emit(full_report(study, args.alpha), args.format, render_text)
    _plots(study, args)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from capacity.compare import compare, render_comparison
    from capacity.scenario import Scenario

    a, b = Scenario.from_toml(args.a), Scenario.from_toml(args.b)
    data = compare(_study(a, args), _study(b, args), args.alpha)
    _emit(data, args.format, render_comparison)
    return 0


def _plots(study: Any, args: argparse.Namespace) -> None:
    if not args.plots:
        return
    from capacity.plot import save_figures

    try:
        written = save_figures(study, args.plots)
    except OSError as exc:
        raise FieldError("--plots", f"cannot write figures there: {exc.strerror or exc}",
                         args.plots) from None
    for path in written:
        sys.stderr.write(f"capacity: wrote {path}\n")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _probability(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="capacity", description="Capacity planning for data-centre estates.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    common = _Parser(add_help=False)
    common.add_argument("--format", choices=("text", "json"), default="text")
    common.add_argument("--start", default="2025-01", help="first month (YYYY-MM)")
    common.add_argument("--end", default="2030-12", help="last month (YYYY-MM)")
    common.add_argument("--month", default="2027-12",
                        help="month whose demand is allocated (YYYY-MM)")
    common.add_argument("--paths", type=_positive_int, default=2000, help="Monte Carlo paths")
    common.add_argument("--seed", type=_seed, default=0, help="random seed")
    common.add_argument("--alpha", type=_probability, default=0.05,
                        help="accepted probability of shortfall for the cabinets still needed")
    common.add_argument("--node-limit", type=_positive_int, default=20_000,
                        help="branch-and-bound nodes for the allocation: a work budget, so "
                        "the same scenario and seed give the same answer on any machine")
    common.add_argument("--time-limit", type=_positive_float, default=60.0,
                        help="ceiling in seconds on the allocation solve; an answer it cuts "
                        "short depends on the machine's speed and load")
    plots = _Parser(add_help=False)
    plots.add_argument("--plots", metavar="DIR", help="write PNG figures to DIR")
    rep = sub.add_parser("report", parents=[common, plots],
                         help="project, allocate and report the embedded Ganzhou scenario")
    rep.set_defaults(func=_report)
    run = sub.add_parser("run", parents=[common, plots],
                         help="project, allocate and cost a scenario file")
    run.add_argument("scenario", help="scenario file (TOML)")
    run.set_defaults(func=_run)
    cmp = sub.add_parser("compare", parents=[common],
                         help="the differences that matter between two scenario files")
    cmp.add_argument("a", help="first scenario file (TOML)")
    cmp.add_argument("b", help="second scenario file (TOML)")
    cmp.set_defaults(func=_compare)
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
