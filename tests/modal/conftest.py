"""The modAL suite: runs only where modAL-python is installed (see Makefile).

`make test` runs this folder once per modAL release, with
SKBAL_EXPECT_MODAL naming the release; a missing or different modAL is an
error here, never a skip.
"""

import os

import numpy as np
import pytest
from _modal_version import MODAL_042  # an ImportError fails the run: this suite must not skip
from sklearn.datasets import load_digits


def pytest_report_header(config):
    return f"modAL-python protocol: {'0.4.2.x (indices, metrics)' if MODAL_042 else '0.4.1 (indices)'}"


def pytest_sessionstart(session):
    expected = os.environ.get("SKBAL_EXPECT_MODAL")
    if expected is not None and expected.startswith("0.4.2") != MODAL_042:
        raise pytest.UsageError(f"SKBAL_EXPECT_MODAL={expected} but the installed modAL speaks the other protocol")


@pytest.fixture(scope="session")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y
