"""Every skbal strategy passes the public common contract."""

from skbal import (
    BALD,
    BatchBALD,
    Entropy,
    LeastConfidence,
    Margin,
    MeanSTD,
    PowerBALD,
    PowerEntropy,
    Random,
    VariationRatios,
)
from skbal.utils.estimator_checks import parametrize_with_checks

STRATEGIES = [
    BALD(),
    BatchBALD(n_joint_samples=1000),
    Entropy(),
    LeastConfidence(),
    Margin(),
    MeanSTD(),
    PowerBALD(),
    PowerBALD(temperature=0.25, query_size=3),
    PowerEntropy(),
    Random(),
    VariationRatios(),
]


@parametrize_with_checks(STRATEGIES)
def test_common_contract(strategy, check):
    check(strategy)
