"""The grades' metric rendering (``metrics.web.serializers._metrics``) takes a fast path for
stored ints and exact fractions "n/d" (the /grades export renders every metric of every
seller): it must give exactly the registry's numbers (``display_value``: half-up to 2 places)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.engine.grading import exact_from_json
from metrics.engine.registry import METRIC_KEYS, display_value
from metrics.web.serializers import _metrics

pytestmark = pytest.mark.sqlite


@given(
    numerator=st.integers(min_value=-(10**12), max_value=10**12),
    denominator=st.integers(min_value=1, max_value=10**9),
    whole=st.integers(min_value=0, max_value=10**12),
)
def test_the_fast_metric_rendering_equals_the_registrys_rounding(numerator, denominator, whole):
    # The grades render stored ints and "n/d" without the Decimal round trip: same numbers.
    exact = Fraction(numerator, denominator)
    stored = {key: f"{exact.numerator}/{exact.denominator}" for key in METRIC_KEYS}
    stored |= {"completed_orders": whole, "revenue": whole}
    shown = _metrics(stored)
    for key in METRIC_KEYS:
        assert shown[key] == display_value(key, exact_from_json(stored[key])), key
