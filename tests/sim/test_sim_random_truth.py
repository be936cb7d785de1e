"""Random truths: the concave draws pinned, and the S-shaped ones beside them."""

import hashlib

import pytest

from optimizer.curves.transforms import Hill
from optimizer.sim import random_scenario
from optimizer.sim.random_truth import PAID_LEVERAGE, S_SHAPES

PINNED = {  # sha256 of random_scenario(n).model_dump_json(exclude_defaults=True), as drawn
    # before s_shaped existed (fields added later with their defaults, e.g. a scenario's clock
    # profile, leave it unchanged)
    1: "61b5df4913b157b045f6b47f56bdbb40b5298c4ac2a4dd77e4a03f9aa3826151",
    7: "473eef05f4d3fae48d79952709c26b4a430988758d361d6288f6dff3ee66e9fc",
    33: "9875a2bf5334858d3c0e2c8251f4cf7d5c5e56efc1f99ad5a887d626b230da84",
}


@pytest.mark.parametrize("number", sorted(PINNED))
def test_concave_random_truths_are_drawn_as_before(number):
    dump = random_scenario(number).model_dump_json(exclude_defaults=True).encode()
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


def test_paid_driven_truths_are_the_same_rooms_levered_by_paid_gmv():
    """Only the room's driver and each package's leverage (in `PAID_LEVERAGE`) differ."""
    for number in range(1, 6):
        spend, paid = random_scenario(number), random_scenario(number, paid_driven=True)
        assert paid.room.organic_driver == "paid_gmv"
        assert paid.room.model_copy(update={"organic_driver": "spend"}) == spend.room
        for package, truth in paid.packages.items():
            assert PAID_LEVERAGE[0] <= truth.organic_leverage <= PAID_LEVERAGE[1]
            before = spend.packages[package]
            assert truth.model_copy(update={"organic_leverage": before.organic_leverage}) == before
