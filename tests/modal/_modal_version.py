"""Which query-strategy protocol the installed modAL speaks."""

import inspect

from modAL.models.base import BaseLearner

#: modAL >= 0.4.2 unpacks (indices, metrics) and has query(return_metrics=...).
MODAL_042 = "return_metrics" in inspect.signature(BaseLearner.query).parameters
