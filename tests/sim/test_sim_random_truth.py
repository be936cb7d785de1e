"""Random truths: the concave draws pinned, and the S-shaped ones beside them."""

import hashlib

import pytest

from optimizer.curves.transforms import Hill
from optimizer.sim import random_scenario
from optimizer.sim.random_truth import S_SHAPES

PINNED = {  # sha256 of random_scenario(n).model_dump_json(), as drawn before s_shaped existed
    1: "458511e4a2fde9256f550072619e6ac96c63d4d025584f0999e94597fd10fdd1",
    7: "528326f445a213e0706897290bb74d41cf0fb35b8ccb4d805ed9c3d907a9a528",
    33: "791db9c224c848aed4eea71c177bdec8a42a9bbe3549540ee9df088adf6b14bc",
}


@pytest.mark.parametrize("number", sorted(PINNED))
def test_concave_random_truths_are_drawn_as_before(number):
    dump = random_scenario(number).model_dump_json().encode()
    assert hashlib.sha256(dump).hexdigest() == PINNED[number]


def test_s_shaped_truths_are_the_same_rooms_with_some_s_shaped_packages():
    """Over truths 1-10 about half the packages are Hill curves of shape in `S_SHAPES`, each
    with the k of the concave truth's package; everything else is the concave truth's."""
    s_shaped = total = 0
    for number in range(1, 11):
        concave, shaped = random_scenario(number), random_scenario(number, s_shaped=True)
        for package, truth in shaped.packages.items():
            before = concave.packages[package]
            total += 1
            if truth.saturation != before.saturation:
                s_shaped += 1
                assert isinstance(truth.saturation, Hill)
                assert S_SHAPES[0] <= truth.saturation.shape <= S_SHAPES[1]
                assert truth.saturation.k == before.saturation.k
            assert truth.model_copy(update={"saturation": before.saturation}) == before
        assert shaped.model_copy(update={"packages": concave.packages,
                                         "name": concave.name}) == concave
    assert 0.3 * total <= s_shaped <= 0.7 * total
