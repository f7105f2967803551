"""The notebooks run from top to bottom, and show their figures and findings.

Each notebook in ``notebooks/`` is executed once with nbclient on the ``python3`` kernel,
from the ``notebooks/`` folder, as Jupyter would run it: with matplotlib's inline backend,
so a figure that never reaches the page (drawn on a non-interactive backend, or closed
before the cell ends) fails here. The committed notebooks carry no outputs.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import nbclient
import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))

#: Seconds a cell may run before the notebook fails.
CELL_TIMEOUT = 300

#: Notebooks that draw, by number.
DRAWING = ("01", "02", "03", "04")

IMAGES = ("image/png", "image/svg+xml")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@functools.cache
def executed(path: Path) -> tuple[object, str | None]:
    """The notebook at `path` run once, and the failing cell's traceback, if one failed."""
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ)
    # What Jupyter uses, whatever this process was given (CI machines often set Agg).
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        return nb, _ANSI.sub("", str(exc))
    return nb, None


def _ran(path: Path):
    nb, error = executed(path)
    if error is not None:
        pytest.fail(f"{path.name} failed:\n{error}", pytrace=False)
    return nb


def _outputs(cells):
    return [o for c in cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _visible(output) -> bool:
    if output.output_type == "stream":
        return output.name == "stdout" and bool(output.text.strip())
    if output.output_type in ("display_data", "execute_result"):
        return bool(output.get("data"))
    return False


def test_the_notebooks_are_found():
    assert [p.name[:2] for p in PATHS] == list(DRAWING)


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    stored = [i for i, c in enumerate(nb.cells)
              if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not stored, f"{path.name} is committed with outputs in cells {stored}"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_runs(path):
    nb = _ran(path)
    errors = [o for o in _outputs(nb.cells) if o.output_type == "error"]
    assert not errors


@pytest.mark.parametrize("path", [p for p in PATHS if p.name[:2] in DRAWING],
                         ids=[p.stem for p in PATHS if p.name[:2] in DRAWING])
def test_shows_a_figure(path):
    nb = _ran(path)
    images = [o for o in _outputs(nb.cells) if set(o.get("data", {})) & set(IMAGES)]
    assert images, f"{path.name} draws no figure that reaches the page"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_writes_no_warnings(path):
    """Nothing on stderr: a warning there (a glyph the font lacks, a deprecation) is a
    flaw the reader sees under the cell."""
    nb = _ran(path)
    written = [f"cell {k}: {o.text.strip()}" for k, c in enumerate(nb.cells)
               if c.cell_type == "code" for o in c.outputs
               if o.output_type == "stream" and o.name == "stderr"]
    assert not written, f"{path.name} writes to stderr:\n" + "\n".join(written)


def _section(nb, heading: str):
    """The code cells from the markdown heading `heading` to the next heading of its level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = next((k for k, c in enumerate(nb.cells) if c.cell_type == "markdown"
                  and c.source.lstrip().startswith(heading)), None)
    assert start is not None, f"no section {heading!r}"
    cells = []
    for c in nb.cells[start + 1:]:
        if c.cell_type == "markdown" and re.match(rf"#{{1,{level}}}\s", c.source.lstrip()):
            break
        cells.append(c)
    return cells


def test_allocation_shows_utilisation_and_shadow_prices():
    path = next(p for p in PATHS if p.name.startswith("03"))
    cells = [c for c in _section(_ran(path), "## Utilisation and shadow prices")
             if c.cell_type == "code"]
    assert cells, "the section has no code"
    silent = [c.source.splitlines()[0] for c in cells if not any(map(_visible, c.outputs))]
    assert not silent, f"cells of the section that show nothing: {silent}"
    outputs = _outputs(cells)
    assert any(set(o.get("data", {})) & set(IMAGES) for o in outputs), "no figure in the section"
