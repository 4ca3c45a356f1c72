"""Progress bars inside one long query (MC sampling blocks, BatchBALD steps).

A strategy's ``select`` opens :func:`query_progress` with its ``verbose``
level; the loops that take time (the block loop of the posterior sampling,
the greedy steps of BatchBALD) open a :func:`progress_phase` and call the
update function it yields. The maths functions never draw bars: they take a
plain callback. The current query lives in a context variable, so threads
(and asyncio tasks) running queries at once do not share bars, and a loop
called outside any query reports nowhere.

Bars are ``tqdm.auto`` (widgets in notebooks, text elsewhere), removed when
done, and appear only once a phase has run for :data:`DELAY_SECONDS`: a
query that is quick stays silent even with ``verbose`` on.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

__all__ = ["DELAY_SECONDS", "progress_phase", "query_progress"]

#: Seconds a phase runs before its bar is drawn.
DELAY_SECONDS = 1.0

# The name of the query being reported, or None.
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("skbal_query_progress", default=None)


def _ignore(n: int = 1) -> None:
    """The update function of a phase nobody watches."""


@contextlib.contextmanager
def query_progress(verbose, name: str) -> Iterator[None]:
    """Report the phases of the query run inside, when ``verbose`` is true."""
    token = _current.set(name if verbose else None)
    try:
        yield
    finally:
        _current.reset(token)


@contextlib.contextmanager
def progress_phase(total: int, desc: str, unit: str) -> Iterator[Callable[[int], None]]:
    """Yield ``update(n)``: advance the bar of this phase of the current query by n.

    A no-op unless the code runs inside :func:`query_progress` with
    ``verbose`` on.
    """
    name = _current.get()
    if name is None:
        yield _ignore
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=f"{name}: {desc}", unit=unit, leave=False, delay=DELAY_SECONDS)
    try:
        yield bar.update
    finally:
        bar.close()
