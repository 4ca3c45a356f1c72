"""The README's quickstart runs as written, with the installed modAL."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_quickstart_runs():
    text = README.read_text(encoding="utf-8")
    quickstart = text[text.index("## Quickstart") :]
    code = re.search(r"```python\n(.*?)```", quickstart, re.S).group(1)
    assert len(code.strip().splitlines()) <= 16
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    learner, indices = namespace["learner"], namespace["indices"]
    assert indices.shape == (10,) and len(np.unique(indices)) == 10
    # teach appended the 10 queried rows to the 50 initial ones.
    assert learner.X_training.shape == (60, 64)
