"""The example notebook runs top to bottom (reduced sizes) with the installed modAL."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "active_learning_walkthrough.ipynb"

SMALL = """N_ROUNDS = 2
QUERY_SIZE = 5
BUDGET = 10
N_REPEATS = 1
TEMPERATURES = [0.5, 2.0]
MAX_EPOCHS = 10"""


def test_walkthrough_notebook_executes(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    (parameters,) = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    names = {line.split("=")[0].strip() for line in parameters.source.splitlines() if "=" in line}
    assert names == {line.split("=")[0].strip() for line in SMALL.splitlines()}  # the override covers them all
    # Injected after the parameters cell, as papermill does.
    notebook.cells.insert(notebook.cells.index(parameters) + 1, nbformat.v4.new_code_cell(SMALL))
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the traceback, on any failing cell

    outputs = {i: cell.get("outputs", []) for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"}
    text = "\n".join(
        str(out.get("text", "")) + str(out.get("data", {}).get("text/plain", ""))
        for cell_outputs in outputs.values()
        for out in cell_outputs
    )
    assert "Repeated Digits" in text
    assert "test accuracy" in text and "best temperature:" in text
    assert "redundant_fraction" in text  # the summary table
    images = [out for cell_outputs in outputs.values() for out in cell_outputs if "image/png" in out.get("data", {})]
    assert len(images) == 1  # the learning curves
