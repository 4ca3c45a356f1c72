"""modAL's two query-strategy protocols, and its retry-on-any-exception.

modAL-python 0.4.1 expects a strategy to return the indices only.
0.4.2.x does ``result, metrics = strategy(...)`` inside a bare ``try/except``
and, on *any* exception (a ``KeyboardInterrupt`` too), calls the strategy a
second time. The learner's ``query`` signature tells the two apart: 0.4.2.x
has a ``return_metrics`` parameter.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types


@functools.lru_cache(maxsize=None)
def _query_takes_return_metrics(learner_type: type) -> bool:
    query = getattr(learner_type, "query", None)
    if not callable(query):
        return False
    try:
        return "return_metrics" in inspect.signature(query).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without signature
        return False


def expects_metrics(learner) -> bool:
    """Whether ``learner.query`` unpacks ``(indices, metrics)`` (modAL >= 0.4.2)."""
    return _query_takes_return_metrics(type(learner))


def modal_query_frame(frame: types.FrameType | None) -> types.FrameType | None:
    """The frame if it is a modAL ``query`` (the caller that retries), else None."""
    if frame is not None and frame.f_code.co_name == "query":
        if frame.f_globals.get("__name__", "").startswith("modAL"):
            return frame
    return None


class RetryGuard:
    """Make modAL 0.4.2.x's retry re-raise the first failure at once.

    When a strategy call made from modAL's ``query`` fails, the exception is
    kept with that ``query`` frame; the immediate second call from the same
    frame raises it again instead of repeating the MC passes (or, after a
    ``KeyboardInterrupt``, silently restarting them).
    """

    def __init__(self):
        self._frame = None
        self._error = None

    def pending_error(self, caller: types.FrameType | None) -> BaseException | None:
        frame, error = self._frame, self._error
        self._frame = self._error = None
        if frame is not None and frame is caller:
            return error
        return None

    def remember(self, caller: types.FrameType | None, error: BaseException) -> None:
        frame = modal_query_frame(caller)
        if frame is not None:
            self._frame, self._error = frame, error


def caller_frame(depth: int = 2) -> types.FrameType | None:
    try:
        return sys._getframe(depth)
    except ValueError:  # pragma: no cover - shallow stack
        return None
