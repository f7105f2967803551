"""Every fenced code block of README.md runs as a test.

``python`` blocks run in order in one namespace (the tour builds on earlier blocks), in a
fresh folder that holds the repository's ``scenarios/``, so the files the tour writes land
there. Shell blocks (tagged ``sh``/``bash``/``shell``/``console``, or untagged) run each
``capacity ...`` command through :func:`capacity.cli.main`, and again with the options a
trailing comment lists. An untagged block counts as shell, so a block that is not code
must say so with a ``text`` tag, or it fails here. The sample error output is checked
against the message the library really gives.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pint
import pytest

from capacity.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SCENARIOS = ROOT / "scenarios"

PYTHON = {"python", "py", "python3", "pycon"}
SHELL = {"", "sh", "bash", "shell", "console"}
NOT_CODE = {"text", "txt", "plain", "output"}


@dataclass(frozen=True)
class Block:
    index: int
    lang: str
    line: int  # README line of the block's first line of code (1-based)
    code: str

    @property
    def first(self) -> str:
        return next((s.strip() for s in self.code.splitlines() if s.strip()), "")

    @property
    def id(self) -> str:
        first = re.sub(r"\s+", " ", self.first)[:48]
        return f"block{self.index}-L{self.line}-{first}"


def readme_blocks(path: Path = README) -> list[Block]:
    """The fenced blocks of `path`, in order, with their language tag (``""`` if none)."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)", lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(2), m.group(3).lower(), i + 1
        j = start
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        if j == len(lines):
            raise AssertionError(f"{path.name}:{i + 1}: fence {fence} is never closed")
        blocks.append(Block(len(blocks), lang, start + 1, "\n".join(lines[start:j]) + "\n"))
        i = j + 1
    return blocks


BLOCKS = readme_blocks()
PY_BLOCKS = [b for b in BLOCKS if b.lang in PYTHON]
SHELL_BLOCKS = [b for b in BLOCKS if b.lang in SHELL]
TEXT_BLOCKS = [b for b in BLOCKS if b.lang in NOT_CODE]


def test_every_block_has_a_known_kind():
    unknown = [b.id for b in BLOCKS if b.lang not in PYTHON | SHELL | NOT_CODE]
    assert not unknown, f"blocks with a tag this test does not know how to run: {unknown}"


def _scratch(folder: Path) -> Path:
    shutil.copytree(SCENARIOS, folder / "scenarios")
    return folder


# --- python blocks ------------------------------------------------------------------------


@dataclass
class Outcome:
    error: str | None = None
    seconds: float = 0.0
    deprecations: list[str] = field(default_factory=list)


def _deprecation(w: warnings.WarningMessage) -> str | None:
    if not issubclass(w.category, DeprecationWarning | PendingDeprecationWarning | FutureWarning):
        return None
    # Third-party deprecations raised inside third-party code are not the README's business;
    # ones attributed to the README's lines or to capacity itself are.
    here = Path(w.filename).resolve()
    if here == README or "capacity" in here.parts:
        return f"{here.name}:{w.lineno}: {w.category.__name__}: {w.message}"
    return None


@pytest.fixture(scope="module")
def python_run(tmp_path_factory) -> dict[int, Outcome]:
    """Run every python block in order in one namespace; the outcome of each."""
    folder = _scratch(tmp_path_factory.mktemp("readme"))
    namespace: dict[str, object] = {"__name__": "__readme__"}
    outcomes: dict[int, Outcome] = {}
    old = Path.cwd()
    os.chdir(folder)
    try:
        for block in PY_BLOCKS:
            outcome = outcomes[block.index] = Outcome()
            # Padded so tracebacks name README.md and its line numbers.
            source = "\n" * (block.line - 1) + block.code
            start = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                warnings.filterwarnings("error", category=pint.UnitStrippedWarning)
                try:
                    exec(compile(source, str(README), "exec"), namespace)
                except Exception:
                    outcome.error = traceback.format_exc()
            outcome.seconds = time.perf_counter() - start
            outcome.deprecations = [d for w in caught if (d := _deprecation(w))]
    finally:
        os.chdir(old)
    return outcomes


@pytest.mark.parametrize("block", [pytest.param(b, id=b.id) for b in PY_BLOCKS])
def test_python_block(block, python_run):
    outcome = python_run[block.index]
    where = f"README.md block {block.index} (line {block.line})"
    if outcome.error:
        earlier = [b.index for b in PY_BLOCKS
                   if b.index < block.index and python_run[b.index].error]
        note = f"\n(blocks before it that failed too: {earlier})" if earlier else ""
        pytest.fail(f"{where} raised:\n{outcome.error}{note}", pytrace=False)
    if outcome.deprecations:
        pytest.fail(f"{where} uses deprecated API:\n" + "\n".join(outcome.deprecations),
                    pytrace=False)


# --- shell blocks -------------------------------------------------------------------------

# What CI itself runs: installing the package, and the test run that includes this file.
CI_COMMANDS = (["python", "-m", "pip", "install"], ["python", "-m", "pytest"])


@dataclass(frozen=True)
class Command:
    block: Block
    line: int
    argv: tuple[str, ...]
    variant: str  # "as written", or the options added from the line's comment

    @property
    def id(self) -> str:
        return f"block{self.block.index}-L{self.line}-{' '.join(self.argv[:2])}-{self.variant}"


def _options(comment: str) -> list[list[str]]:
    """The options a comment lists (``# ...; --format json, --plots DIR``), one per item."""
    found = []
    for item in re.split(r"[,;]", comment):
        words = item.split()
        if words and words[0].startswith("--"):
            found.append(words)
    return found


def shell_commands(block: Block) -> tuple[list[Command], list[str]]:
    """The ``capacity`` commands of a shell block, and its lines that are not commands."""
    commands: list[Command] = []
    strangers: list[str] = []
    for k, text in enumerate(block.code.splitlines()):
        line = block.line + k
        code, _, comment = text.partition("#")
        if not code.strip():
            continue
        for part in code.split("&&"):
            try:
                argv = shlex.split(part)
            except ValueError as exc:
                strangers.append(f"README.md:{line} ({exc}): {text.strip()}")
                continue
            if any(argv[:len(c)] == c for c in CI_COMMANDS):
                continue  # what CI runs itself; never run pytest from inside pytest
            if argv[:1] != ["capacity"]:
                strangers.append(f"README.md:{line}: {text.strip()}")
                continue
            commands.append(Command(block, line, tuple(argv[1:]), "as written"))
            extra = [w for opt in _options(comment) for w in opt]
            if extra:
                commands.append(Command(block, line, (*argv[1:], *extra), " ".join(extra)))
    return commands, strangers


COMMANDS = [c for b in SHELL_BLOCKS for c in shell_commands(b)[0]]


@pytest.mark.parametrize("block", [pytest.param(b, id=b.id) for b in SHELL_BLOCKS])
def test_shell_block_holds_only_commands(block):
    """An untagged block is run as shell: one that is not code needs a ``text`` tag."""
    strangers = shell_commands(block)[1]
    assert not strangers, (
        f"README.md block {block.index} (line {block.line}, tagged {block.lang or 'nothing'}) "
        "has lines that are not capacity commands; if it is not code, tag it ```text:\n  "
        + "\n  ".join(strangers))


def test_the_commands_are_found():
    written = {c.argv[0] for c in COMMANDS if c.variant == "as written"}
    assert {"report", "run", "compare"} <= written


@pytest.mark.parametrize("command", [pytest.param(c, id=c.id) for c in COMMANDS])
def test_shell_command(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(_scratch(tmp_path))
    argv = [str(tmp_path / "plots") if a == "DIR" else a for a in command.argv]
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 0, f"capacity {' '.join(argv)} exited {status}:\n{err}"
    if "--format" in argv and argv[argv.index("--format") + 1] == "json":
        json.loads(out)
    if "--plots" in argv:
        assert list((tmp_path / "plots").glob("*.png")), "--plots wrote no figures"
    for option, value in itertools.pairwise(argv):
        # an option the comment names with a file (--html report.html) writes that file
        if option.startswith("--") and Path(value).suffix:
            assert (tmp_path / value).is_file(), f"{option} {value} wrote no file"


# --- blocks that are not code -------------------------------------------------------------


def test_sample_error_output_is_what_the_library_says():
    from capacity.errors import ValidationError
    from capacity.inventory import Site

    sample = [b for b in BLOCKS if b.first.startswith("invalid site 's1'")]
    assert len(sample) == 1, "README.md no longer shows the sample error output"
    with pytest.raises(ValidationError) as exc:
        Site("s1", "s1", cabinets={}, pue=0.8, grid="1 MWh")
    message = str(exc.value).splitlines()
    for line in sample[0].code.splitlines():
        if line.strip():
            assert line.rstrip() in message, f"README.md sample line not in the real error: {line}"
