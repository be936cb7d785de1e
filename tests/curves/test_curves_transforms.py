"""Carryover and saturation transforms, and the SessionResponse built from them."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.curves.response import ResponseTerm, SessionResponse
from optimizer.curves.transforms import (
    BelowData,
    Carryover,
    Exponential,
    Hill,
    Linear,
    Logarithmic,
    concave_envelope,
    decay_of,
)

SATURATIONS = [
    Exponential(k=80.0),
    Hill(k=150.0, shape=0.8),
    Hill(k=50.0, shape=1.0),
    Logarithmic(k=40.0),
    Linear(),
    BelowData(base=Exponential(k=80.0), low=30.0),
    BelowData(base=Hill(k=150.0, shape=0.8), low=45.0),
    concave_envelope(Hill(k=50.0, shape=2.5)),
]


# -- saturation -----------------------------------------------------------------------------
def test_closed_forms_at_the_scale():
    assert Exponential(k=80.0)(np.array(80.0)) == pytest.approx(1.0 - np.exp(-1.0), rel=1e-12)
    assert Hill(k=150.0, shape=0.8)(np.array(150.0)) == pytest.approx(0.5, rel=1e-12)
    assert Logarithmic(k=40.0)(np.array(40.0 * (np.e - 1.0))) == pytest.approx(1.0, rel=1e-12)
    assert Linear()(np.array(7.5)) == 7.5


def test_closed_forms_on_a_grid():
    a = np.linspace(0.0, 500.0, 101)
    np.testing.assert_allclose(Exponential(k=80.0)(a), 1.0 - np.exp(-a / 80.0), rtol=1e-12)
    np.testing.assert_allclose(Hill(k=150.0, shape=0.8)(a),
                               a**0.8 / (a**0.8 + 150.0**0.8), rtol=1e-12)
    np.testing.assert_allclose(Logarithmic(k=40.0)(a), np.log(1.0 + a / 40.0), rtol=1e-12)


@pytest.mark.parametrize("saturation", SATURATIONS, ids=lambda s: f"{s.family}")
def test_saturation_is_zero_at_zero_increasing_and_concave(saturation):
    a = np.linspace(0.0, 600.0, 601)
    values = saturation(a)
    assert values[0] == 0.0
    assert np.all(np.diff(values) > 0)
    assert np.all(np.diff(values, 2) <= 1e-12)


@pytest.mark.parametrize("saturation", SATURATIONS, ids=lambda s: f"{s.family}")
def test_derivative_matches_central_differences(saturation):
    a = np.linspace(1.0, 600.0, 200)  # away from 0, where Hill with shape < 1 has no slope
    h = 1e-5 * np.maximum(a, 1.0)
    numeric = (saturation(a + h) - saturation(a - h)) / (2 * h)
    np.testing.assert_allclose(saturation.derivative(a), numeric, rtol=1e-6, atol=1e-12)


def test_below_the_data_is_the_chord_to_the_lowest_spend_seen():
    """No more per yuan below `low` than at it: the chord, not the fitted family's steepest
    part; the base from `low` up."""
    base = Exponential(k=80.0)
    below = BelowData(base=base, low=30.0)
    a = np.linspace(0.0, 30.0, 31)
    np.testing.assert_allclose(below(a), a * base(np.array(30.0)) / 30.0, rtol=1e-12)
    assert np.all(below(a[1:]) <= base(a[1:]))
    high = np.linspace(30.0, 500.0, 50)
    np.testing.assert_allclose(below(high), base(high), rtol=1e-12)
    assert below.derivative(np.array(0.0)) == pytest.approx(base(np.array(30.0)) / 30.0)
    assert below.k == 80.0


def test_an_s_shaped_hill_is_planned_on_its_concave_envelope():
    """Shape over 1: the chord from 0 touches the curve at its corner ``k (s - 1)^(1/s)``, where
    ``S(a) / a`` peaks; the envelope is above the curve below it, the curve from it up. A
    concave Hill curve is its own envelope."""
    hill = Hill(k=50.0, shape=2.0)
    assert hill.corner == pytest.approx(50.0)
    a = np.linspace(1.0, 400.0, 4000)
    assert a[np.argmax(hill(a) / a)] == pytest.approx(hill.corner, abs=0.1)
    envelope = concave_envelope(hill)
    assert envelope.derivative(np.array(1.0)) == pytest.approx(hill.derivative(hill.corner),
                                                               rel=1e-9)
    assert np.all(envelope(a) >= hill(a) - 1e-15)
    past = a >= hill.corner
    np.testing.assert_allclose(envelope(a[past]), hill(a[past]), rtol=1e-12)
    assert concave_envelope(Hill(k=50.0, shape=0.8)) == Hill(k=50.0, shape=0.8)
    assert concave_envelope(Exponential(k=80.0)) == Exponential(k=80.0)


def test_slope_at_zero():
    assert Exponential(k=80.0).derivative(np.array(0.0)) == pytest.approx(1 / 80.0)
    assert Logarithmic(k=40.0).derivative(np.array(0.0)) == pytest.approx(1 / 40.0)
    assert Hill(k=50.0, shape=1.0).derivative(np.array(0.0)) == pytest.approx(1 / 50.0, rel=1e-9)


def test_saturations_load_by_family():
    from pydantic import TypeAdapter

    from optimizer.curves.transforms import Saturation

    adapter = TypeAdapter(Saturation)
    for saturation in SATURATIONS:
        assert adapter.validate_python(saturation.model_dump()) == saturation


# -- carryover ------------------------------------------------------------------------------
def test_decay_of_halves_after_one_half_life():
    for half_life in (0.5, 1.0, 2.5, 15.0):
        assert decay_of(half_life) ** half_life == pytest.approx(0.5, rel=1e-12)
    assert decay_of(0.0) == 0.0


@pytest.mark.parametrize("half_lives", [(2.0,), (3.0, 4.0), (1.5, 2.0, 6.0)])
def test_kernel_sums_to_one(half_lives):
    kernel = Carryover(half_lives=half_lives).kernel(2000)
    assert kernel.sum() == pytest.approx(1.0, abs=1e-10)
    assert np.all(kernel >= 0)


def test_geometric_kernel_closed_form():
    r = decay_of(3.0)
    kernel = Carryover(half_lives=(3.0,)).kernel(50)
    np.testing.assert_allclose(kernel, (1 - r) * r ** np.arange(50), rtol=1e-12)


def test_two_stage_kernel_is_the_convolution_with_a_delayed_peak():
    one, two = Carryover(half_lives=(3.0,)).kernel(300), Carryover(half_lives=(4.0,)).kernel(300)
    both = Carryover(half_lives=(3.0, 4.0)).kernel(300)
    np.testing.assert_allclose(both, np.convolve(one, two)[:300], atol=1e-14)
    assert 0 < int(np.argmax(both)) < 10  # the peak is delayed, not at lag 0


def test_no_carryover_is_the_identity():
    x = np.random.default_rng(0).gamma(2.0, 20.0, size=(30, 3))
    np.testing.assert_array_equal(Carryover().apply(x), x)
    assert Carryover().kernel(5).tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]


def test_steady_spend_settles_at_its_level():
    adstock = Carryover(half_lives=(2.0, 3.0)).apply(np.full(400, 37.0))
    assert adstock[-1] == pytest.approx(37.0, rel=1e-10)
    assert adstock[0] < 37.0  # nothing is carried in from before the session


def test_columns_are_independent():
    x = np.random.default_rng(1).gamma(2.0, 20.0, size=(60, 4))
    carry = Carryover(half_lives=(2.5,))
    both = carry.apply(x)
    for j in range(4):
        np.testing.assert_allclose(both[:, j], carry.apply(x[:, j]), rtol=1e-12)


@pytest.mark.parametrize("half_lives", [(4.0,), (2.0, 3.0)])
def test_sessions_restart(half_lives):
    """Sessions of unequal lengths, filtered side by side: each is its own session's adstock."""
    session = np.repeat([0, 1, 2], [50, 40, 60])
    x = np.random.default_rng(2).gamma(2.0, 20.0, size=(150, 2))
    x[50:90] = 0.0  # session 1 spends nothing: nothing may carry into it
    carry = Carryover(half_lives=half_lives)
    stacked = carry.apply_sessions(x, session)
    assert np.all(stacked[50:90] == 0.0)
    for s in range(3):
        rows = session == s
        np.testing.assert_allclose(stacked[rows], carry.apply(x[rows]), rtol=1e-12)
        np.testing.assert_allclose(carry.apply_sessions(x[:, 0], session)[rows],
                                   carry.apply(x[rows, 0]), rtol=1e-12)
    # without the restart, session 1 would inherit session 0's adstock
    assert carry.apply(x)[50, 0] > 0.0
    assert carry.apply_sessions(np.zeros((0, 2)), np.zeros(0, int)).shape == (0, 2)


def test_apply_matches_the_recursion():
    r = decay_of(2.0)
    x = np.random.default_rng(3).gamma(2.0, 20.0, size=40)
    expected, previous = [], 0.0
    for value in x:
        previous = r * previous + (1 - r) * value
        expected.append(previous)
    np.testing.assert_allclose(Carryover(half_lives=(2.0,)).apply(x), expected, rtol=1e-12)


# -- response -------------------------------------------------------------------------------
def _response() -> tuple[SessionResponse, np.ndarray]:
    """Two packages, a saturating uplift with mixed-sign weights and a cannibalising term."""
    rng = np.random.default_rng(4)
    minutes = 120
    m = 0.5 + 0.5 * np.sin(np.linspace(0, np.pi, minutes))
    paid = (
        ResponseTerm(500 * m, Exponential(k=80.0), Carryover(half_lives=(2.0,)), np.eye(2)[0]),
        ResponseTerm(700 * m, Hill(k=150.0, shape=0.8), Carryover(half_lives=(3.0, 4.0)),
                     np.eye(2)[1]),
    )
    uplift = (
        ResponseTerm(300 * m, Exponential(k=300.0), Carryover(half_lives=(15.0,)),
                     np.array([0.6, -0.2])),
        ResponseTerm(m, Linear(), Carryover(half_lives=(15.0,)), np.array([0.0, -0.4])),
    )
    spend = rng.gamma(2.0, 25.0, size=(minutes, 2))
    spend[20:35, 0] = 0.0
    return SessionResponse(("a", "b"), 400 * m, paid, uplift), spend


def test_attribution_rows_sum_to_the_term_value():
    response, spend = _response()
    for term in (*response.paid, *response.uplift):
        np.testing.assert_allclose(term.attribution(spend).sum(axis=1), term.value(spend),
                                   rtol=1e-10, atol=1e-9)


def test_uplift_by_package_rows_sum_to_the_uplift():
    response, spend = _response()
    by_package = response.uplift_by_package(spend)
    assert by_package.shape == (response.minutes, 2)
    np.testing.assert_allclose(by_package.sum(axis=1), response.organic_uplift(spend),
                               rtol=1e-10, atol=1e-9)


def test_paid_attribution_is_the_paid_gmv_of_its_own_package():
    response, spend = _response()
    for j, term in enumerate(response.paid):
        shares = term.attribution(spend)
        np.testing.assert_allclose(shares[:, j], response.paid_gmv(spend)[:, j], rtol=1e-10)
        assert np.all(shares[:, 1 - j] == 0.0)


def test_zero_spend_gives_the_baseline():
    response, spend = _response()
    zero = np.zeros_like(spend)
    assert np.all(response.paid_gmv(zero) == 0.0)
    np.testing.assert_array_equal(response.organic_gmv(zero), response.baseline)
    assert np.all(response.uplift_by_package(zero) == 0.0)


def test_term_value_is_scale_times_saturated_index():
    response, spend = _response()
    term = response.uplift[0]
    z = Carryover(half_lives=(15.0,)).apply(spend @ term.weights)
    np.testing.assert_allclose(term.value(spend), term.scale * term.saturation(z), rtol=1e-12)


@pytest.mark.parametrize("baseline_factor", [1.0, 0.01])  # 0.01: organic clipped at 0 often
def test_stepper_equals_the_whole_schedule_minute_by_minute(baseline_factor):
    response, spend = _response()
    response = SessionResponse(response.packages, response.baseline * baseline_factor,
                               response.paid, response.uplift)
    organic = response.organic_gmv(spend)
    if baseline_factor < 1:
        assert (organic == 0).any() and (organic > 0).any()
    stepper = response.stepper()
    for t in range(response.minutes):
        paid_t, organic_t = stepper.step(spend[t])
        # GMV at t depends on spend up to t only: the rest of the schedule is still unknown
        np.testing.assert_allclose(paid_t, response.paid_gmv(spend)[t], rtol=1e-9, atol=1e-9)
        assert organic_t == pytest.approx(organic[t], rel=1e-9, abs=1e-9)
    with pytest.raises(IndexError, match="120 minutes"):
        stepper.step(spend[0])
