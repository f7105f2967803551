"""The ``capacity`` command.

``capacity report`` runs the embedded Ganzhou scenario; ``capacity run SCENARIO.toml``
projects, allocates and costs a scenario file; ``capacity compare A.toml B.toml`` shows
the differences that matter; ``capacity appraise POLICY.toml`` weighs what a policy's
instruments buy against what they cost the city. Every command takes ``--format
text|json``. Bad input exits with status 2 and a one-line message per problem (file,
field, reason), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from capacity.errors import CapacityError, FieldError, ValidationError

__all__ = ["main"]

EXIT_USAGE = 2
_T = TypeVar("_T")


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
    _html(study, args)
    return 0


def _run(args: argparse.Namespace) -> int:
    from capacity.report import full_report, render_text

    (scenario,) = _scenarios(args.scenario)
    study = _study(scenario, args)
    _emit(full_report(study, args.alpha), args.format, render_text)
    _plots(study, args)
    _html(study, args)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from capacity.compare import compare, render_comparison

    a, b = _scenarios(args.a, args.b)
    first, second = _study(a, args), _study(b, args)
    _emit(compare(first, second, args.alpha), args.format, render_comparison)
    _html(first, args, other=second)
    return 0


def _appraise(args: argparse.Namespace) -> int:
    from capacity.appraisal_report import appraisal_report, render_appraisal
    from capacity.policy import appraise, compare_instruments, voucher_frontier
    from capacity.sensitivity import appraisal_tornado

    files = [args.policy] if args.baseline is None else [args.policy, args.baseline]
    read = _scenarios(*files)
    policy, baseline = read[0], (read[1] if len(read) > 1 else None)
    kw = {"start": args.start, "end": args.end, "seed": args.seed}
    try:
        appraisal = appraise(policy, baseline, n_paths=args.paths, **kw)
    except FieldError as exc:
        if exc.path != "policy.policies":
            raise
        raise FieldError(args.policy, "has no instruments ([[policies]]), so against its "
                         "baseline there is nothing to appraise: add one, or give a "
                         "--baseline FILE that differs") from None
    tornado = (appraisal_tornado(policy, baseline, n_paths=args.sensitivity_paths, **kw)
               if args.sensitivity_paths else None)
    frontier = (voucher_frontier(policy, n_paths=args.sensitivity_paths or args.paths, **kw)
                if args.frontier else None)
    alone = (compare_instruments(policy, baseline=baseline, n_paths=args.paths, **kw)
             if len(policy.policies) > 1 else None)
    report = appraisal_report(appraisal, policy, baseline=baseline, tornado=tornado,
                              frontier=frontier, alone=alone, seed=args.seed)
    _emit(report, args.format, render_appraisal)
    if args.html:
        import matplotlib

        matplotlib.use("Agg")  # this process draws only into files
        from capacity.html_report import render_appraisal_html, write_html

        page = render_appraisal_html(appraisal, tornado, frontier,
                                     title=f"Appraisal of {policy.name}")
        sys.stderr.write(f"capacity: wrote {write_html(page, args.html)}\n")
    return 0


def _html(study: Any, args: argparse.Namespace, other: Any = None) -> None:
    """Write the HTML report (of one study, or of the comparison with `other`)."""
    if not args.html:
        return
    import matplotlib

    matplotlib.use("Agg")  # this process draws only into files
    from capacity.html_report import render_comparison_html, render_html, write_html

    page = (render_html(study, args.alpha) if other is None
            else render_comparison_html(study, other, args.alpha))
    sys.stderr.write(f"capacity: wrote {write_html(page, args.html)}\n")


def _plots(study: Any, args: argparse.Namespace) -> None:
    if not args.plots:
        return
    import matplotlib

    matplotlib.use("Agg")  # this process draws only into files
    from capacity.plot import save_figures

    try:
        written = save_figures(study, args.plots)
    except OSError as exc:
        raise FieldError("--plots", f"cannot write figures there: {exc.strerror or exc}",
                         args.plots) from None
    for path in written:
        sys.stderr.write(f"capacity: wrote {path}\n")


def _instead(text: str, parse: Callable[[str], object]) -> str:
    """What to write instead of a number written as people write it, if that would do."""
    from capacity.units import read_number, respelling

    respelt = respelling(text)  # "46,000", "４６０００"
    number = read_number(text)  # "1e6" for a whole number
    percent = read_number(text.strip()[:-1]) if text.strip().endswith("%") else None
    options = [(f"{respelt[0]}; write {respelt[1]}", respelt[1]) if respelt else None,
               (f"write {number:.0f}", f"{number:.0f}") if number is not None
               and number.is_integer() else None,
               (f"write {percent / 100:g}", f"{percent / 100:g}") if percent is not None
               else None]
    return next((f" ({hint})" for hint, fixed in filter(None, options)
                 if fixed != text and parse(fixed) is not None), "")


def _option(noun: str, parse: Callable[[str], _T | None]) -> Callable[[str], _T]:
    """An option's reader: what `parse` reads, else an error saying `noun` is expected."""
    def read(text: str) -> _T:
        value = parse(text)
        if value is None:
            raise argparse.ArgumentTypeError(f"must be {noun}, got {text!r}"
                                             f"{_instead(text, parse)}")
        return value

    return read


def _whole(least: int) -> Callable[[str], int | None]:
    """Whole numbers of at least `least`.

    Digits may be grouped by underscores, as in Python and TOML (``10_000``).
    """
    def parse(text: str) -> int | None:
        ok = re.fullmatch(r"\s*[+-]?[0-9]+(?:_[0-9]+)*\s*", text) and int(text) >= least
        return int(text) if ok else None

    return parse


def _real(accept: Callable[[float], bool]) -> Callable[[str], float | None]:
    """Finite decimal numbers that `accept` takes."""
    def parse(text: str) -> float | None:
        from capacity.units import read_number

        value = read_number(text)
        return value if value is not None and accept(value) else None

    return parse


def _unwritable(html: str | None, plots: str | None) -> str:
    """Why the --html file or the --plots folder cannot be written ("" when both can)."""
    if html:
        target = Path(html)
        folder = target.parent if str(target.parent) else Path(".")
        if target.is_dir():
            return f"argument --html: {html} is a folder; give a file name such as report.html"
        if not folder.is_dir():
            return f"argument --html: {html}: the folder {folder} does not exist"
        if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target,
                                                                                os.W_OK)):
            return f"argument --html: {html} cannot be written (no permission)"
    if plots:
        folder = Path(plots)
        if folder.exists() and not folder.is_dir():
            return f"argument --plots: {plots} is a file, not a folder to write figures into"
        existing = next(a for a in (folder, *folder.absolute().parents) if a.exists())
        if not os.access(existing, os.W_OK):
            return f"argument --plots: {plots} cannot be written (no permission)"
    return ""


#: The month whose demand is allocated by default (the smart-computing centre's target).
_MONTH = "2027-12"


def _month(text: str) -> str | None:
    """The month `text` gives (``"2025-03"``, or a day of it), as ``YYYY-MM``, if any."""
    from capacity.months import month

    try:
        return str(month(text))
    except FieldError:
        return None


def _scenarios(*paths: str) -> list[Any]:
    """Each scenario file read; if any is invalid, every problem of every file at once."""
    from capacity.scenario import Scenario

    read, errors = [], []
    for path in paths:
        try:
            read.append(Scenario.from_toml(path))
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise ValidationError(errors[0].message, [p for e in errors for p in e.problems])
    return read


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="capacity", description="Capacity planning for data-centre estates.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    axis = _Parser(add_help=False)
    axis.add_argument("--format", choices=("text", "json"), default="text",
                      help="output format (default: %(default)s)")
    month = _option("a month written YYYY-MM", _month)
    axis.add_argument("--start", type=month, default="2025-01",
                      help="first month, YYYY-MM (default: %(default)s)")
    axis.add_argument("--end", type=month, default="2030-12",
                      help="last month, YYYY-MM (default: %(default)s)")
    axis.add_argument("--paths", type=_option("a positive whole number of paths", _whole(1)),
                      default=2000, help="Monte Carlo paths (default: %(default)s)")
    axis.add_argument("--seed", type=_option("a whole number, 0 or more", _whole(0)),
                      default=0, help="random seed (default: %(default)s)")
    common = _Parser(add_help=False, parents=[axis])
    common.add_argument("--month", type=month, default=None,
                        help="month whose demand is allocated, YYYY-MM, one of the projected "
                             "months (the default moves to the nearest of them when it lies "
                             f"outside) (default: {_MONTH})")
    common.add_argument("--alpha", type=_option("a probability between 0 and 1",
                                                _real(lambda x: 0 < x < 1)),
                        default=0.05, help="accepted probability of shortfall for the "
                        "cabinets still needed (default: %(default)s)")
    common.add_argument("--node-limit", type=_option("a positive whole number of nodes",
                                                     _whole(1)),
                        default=20_000,
                        help="branch-and-bound nodes for the allocation: a work budget, so "
                        "the same scenario and seed give the same answer on any machine "
                        "(default: %(default)s)")
    common.add_argument("--time-limit", type=_option("a positive, finite number of seconds",
                                                     _real(lambda x: x > 0)),
                        default=60.0, help="ceiling in seconds on the allocation solve; an "
                        "answer it cuts short depends on the machine's speed and load "
                        "(default: %(default)s)")
    plots = _Parser(add_help=False)
    plots.add_argument("--plots", metavar="DIR", help="write PNG figures to DIR")
    page = _Parser(add_help=False)
    page.add_argument("--html", metavar="FILE",
                      help="write a self-contained HTML report (figures inline) to FILE")
    rep = sub.add_parser("report", parents=[common, plots, page],
                         help="project, allocate and report the embedded Ganzhou scenario")
    rep.set_defaults(func=_report)
    run = sub.add_parser("run", parents=[common, plots, page],
                         help="project, allocate and cost a scenario file")
    run.add_argument("scenario", help="scenario file (TOML)")
    run.set_defaults(func=_run)
    cmp = sub.add_parser("compare", parents=[common, page],
                         help="the differences that matter between two scenario files")
    cmp.add_argument("a", help="first scenario file (TOML)")
    cmp.add_argument("b", help="second scenario file (TOML)")
    cmp.set_defaults(func=_compare)
    app = sub.add_parser("appraise", parents=[axis, page],
                         help="what a policy scenario's instruments buy and cost the city, "
                         "against its baseline, and what moves the answer")
    app.add_argument("policy", help="scenario file with the instruments in force (TOML)")
    app.add_argument("--baseline", metavar="FILE", help="scenario file without them (TOML; "
                     "default: the policy scenario with no instruments)")
    app.add_argument("--sensitivity-paths", type=_option("a whole number of paths, 0 or more",
                                                         _whole(0)),
                     default=400, help="paths of each variant of the sensitivity ranking; 0 "
                     "skips it (default: %(default)s)")
    app.add_argument("--frontier", action="store_true",
                     help="also appraise the voucher at rates 10-50 %% × budgets of 1,000 to "
                     "8,000 万元 a year and mark the efficient designs")
    app.set_defaults(func=_appraise)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.end < args.start:  # both YYYY-MM (as _month writes them): text order is time order
        parser.error(f"argument --end: {args.end} is before --start {args.start}")
    unwritable = _unwritable(getattr(args, "html", None), getattr(args, "plots", None))
    if unwritable:  # before the study runs, not after it has printed
        parser.error(unwritable)
    if hasattr(args, "month"):
        if args.month is None:  # the default, moved into the horizon when it lies outside
            args.month = min(max(_MONTH, args.start), args.end)
        elif not args.start <= args.month <= args.end:
            # the allocation would be of a month the projection beside it does not cover
            parser.error(f"argument --month: {args.month} is outside --start {args.start} … "
                         f"--end {args.end}")
    try:
        status: int = args.func(args)
    except ValidationError as exc:
        for problem in exc.problems:
            sys.stderr.write(f"capacity: error: {exc.message}: {problem}\n")
        return EXIT_USAGE
    except CapacityError as exc:
        sys.stderr.write(f"capacity: error: {_as_option(exc)}\n")
        return EXIT_USAGE
    return status


#: The options passed on to the library, by the name of the argument they become.
_OPTIONS = {"n_paths": "--paths", "seed": "--seed", "start": "--start", "end": "--end",
            "when": "--month", "alpha": "--alpha", "node_limit": "--node-limit",
            "time_limit": "--time-limit", "baseline": "--baseline"}


def _as_option(error: CapacityError) -> CapacityError:
    """A problem with an argument the command passed on, named as the option the user gave."""
    if isinstance(error, FieldError) and error.path in _OPTIONS:
        return type(error)(_OPTIONS[error.path], error.reason, error.value)
    return error


if __name__ == "__main__":
    sys.exit(main())
