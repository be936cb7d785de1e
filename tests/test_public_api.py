"""The public Python API: every exported name resolves, is documented, and loads lazily;
what a notebook prints and passes around."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import optimizer
from optimizer.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG, DEMO_MODEL = ROOT / "configs" / "demo.yaml", ROOT / "models" / "demo.json"


@pytest.mark.parametrize("name", optimizer.__all__)
def test_exported_name_resolves_and_is_documented(name):
    value = getattr(optimizer, name)
    assert value is getattr(optimizer, name)
    assert inspect.getdoc(value), f"optimizer.{name} has no docstring"


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        optimizer.no_such_thing  # noqa: B018


def test_import_does_not_load_the_stages():
    heavy = ("pandas", "scipy", "optimizer.curves")
    code = f"import optimizer, sys; print(sorted(m for m in {heavy} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"


@pytest.fixture(scope="module")
def demo():
    import optimizer as sp

    campaign = sp.load_campaign(DEMO_CONFIG)
    return campaign, sp.load_model(DEMO_MODEL)


def test_notebook_objects_print_in_a_line_with_what_matters(demo):
    """repr(plan) was 40 kB (the problem's arrays), a campaign's 5 kB, a history's 4 kB."""
    import optimizer as sp
    from optimizer.curves import from_artifact

    campaign, model = demo
    plan = sp.plan_campaign(campaign, model)
    text = repr(plan)
    assert len(text) < 200 and "'optimal'" in text and "6 packages x 240 minutes" in text
    assert f"{plan.expected_total_gmv:,.0f} yuan" in text
    text = repr(campaign)
    assert len(text) < 300 and "'demo_room'" in text and "(240 minutes)" in text
    assert f"{len(campaign.history.sessions)} sessions" in text
    text = repr(from_artifact(model))
    assert text.startswith("ResponseModel(fitted on 21 sessions of up to 240 minutes; paid")
    assert "fans (" in text and len(text) < 300


def test_a_fitted_model_saves_as_its_artifact_and_summaries_take_a_campaign(demo, tmp_path):
    """save_model(model) and fit_summary(model, campaign) failed with AttributeError and a
    Timestamp compare; the model's artifact and the campaign's panel were needed."""
    import optimizer as sp
    from optimizer.curves import from_artifact

    campaign, artifact = demo
    model = from_artifact(artifact)
    saved = sp.load_model(sp.save_model(model, tmp_path / "m.json"))
    assert saved.model_dump(exclude={"created"}) == artifact.model_dump(exclude={"created"})
    expected = sp.fit_summary(model, campaign.panel(), n_draws=20)
    for data in (campaign, campaign.history):
        pd.testing.assert_frame_equal(sp.fit_summary(model, data, n_draws=20), expected)
    # load_model's artifact goes where a model goes, as in plan_campaign (it was an
    # AttributeError on 'paid_')
    pd.testing.assert_frame_equal(sp.fit_summary(saved, campaign, n_draws=20), expected)
    pd.testing.assert_frame_equal(sp.organic_summary(saved), sp.organic_summary(model))
    assert sp.plot_curves(saved, campaign, tmp_path / "curves.png", n_draws=20).is_file()
    with pytest.raises(InputError, match="not a fitted ResponseModel"):
        sp.organic_summary("models/demo.json")


def test_the_history_summary_joins_the_fit_summary_by_package(demo):
    """The history summary had package as a column, the fit summary as its index."""
    import optimizer as sp

    campaign, artifact = demo
    history = sp.history_summary(campaign.history)
    assert history.index.name == "package"
    assert list(history.index) == [*campaign.history.packages, "(room organic)"]
    spend = campaign.history.spend
    assert history.loc["fans", "spend"] == pytest.approx(
        spend.loc[spend["package"] == "fans", "spend"].sum())
    assert history.loc["(room organic)", "organic_gmv"] == pytest.approx(
        campaign.history.room["organic_gmv"].sum())
    joined = history.join(sp.fit_summary(artifact, campaign, n_draws=20), how="inner")
    assert list(joined.index) == list(campaign.history.packages)


def test_a_campaign_loads_from_a_dict_in_a_notebook(demo):
    """load_campaign(dict) failed with 'expected str, bytes or os.PathLike object, not dict'."""
    import yaml

    import optimizer as sp

    campaign, _ = demo
    raw = yaml.safe_load(DEMO_CONFIG.read_text())
    from_dict = sp.load_campaign(raw, base_dir=DEMO_CONFIG.parent)
    assert from_dict.config.model_dump() == campaign.config.model_dump()
    assert repr(from_dict) == repr(campaign)
    assert sp.load_campaign(campaign.config).config is campaign.config
    with pytest.raises(sp.InputError, match="config: budget"):
        sp.load_campaign({**raw, "budget": -1}, base_dir=DEMO_CONFIG.parent)
