"""Saliency benchmarks on a tiny random-weight classifier: the structure of what they report."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks import saliency_faithfulness as faith  # noqa: E402
from benchmarks import saliency_speed as speed  # noqa: E402
from models.saliency import METHODS  # noqa: E402

FAST = {"steps": 4, "samples": 2, "window": 28}


pytestmark = pytest.mark.usefixtures("one_thread")


def test_faithfulness_run_and_summary(model, tmp_path):
    features = ("HP:0000316", "HP:0000347")
    results = faith.run(
        model, n=1, methods=METHODS, features=features, size=128, align="landmarks", deletion_steps=4, **FAST
    )
    loc, dele, rand = results["localisation"], results["deletion"], results["randomisation"]
    assert len(loc) == len(features) * (len(METHODS) + 1)  # + the pixel-difference reference
    for r in loc:
        assert r["expected_region"] == faith.FEATURE_REGIONS[r["hpo"]]
        assert 0 < r["chance"] <= 1 and 1 <= r["rank"] <= r["n_regions"]
        assert r["hit"] == (r["top_region"] == r["expected_region"])
    assert {r["method"] for r in dele} == {*METHODS, "random"}
    for r in dele:
        assert len(r["curve"]) == 5 and math.isfinite(r["auc"])
        assert math.isnan(r["auc_norm"]) or -10 <= r["auc_norm"] <= 10
    stages = faith.cascade_stages(model)
    assert [s for s, _ in stages][:2] == ["fc", "layer4"]
    assert len(rand) == len(stages) * len(METHODS) and rand[-1]["stage"] == "full"
    # randomising the weights changes the maps (Adebayo et al. 2018): somewhere the rank correlation drops
    assert min(r["rho_abs"] for r in rand if math.isfinite(r["rho_abs"])) < 0.9
    summary = faith.summarise(results)
    assert set(summary["localisation"]) == {*METHODS, faith.PIXEL_DIFFERENCE}
    assert 0 <= summary["localisation"]["integrated_gradients"]["hit_rate"] <= 1
    faith.print_tables(summary)
    faith.write(results, summary, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {
        "localisation.csv",
        "deletion.csv",
        "randomisation.csv",
        "summary.json",
    }
    assert all(p.grad is None for p in model.parameters())  # the trained model is left as it was


def test_deletion_curve_ends_at_the_blurred_score(model):
    crop = np.random.default_rng(0).integers(0, 256, (112, 112, 3), dtype=np.uint8)
    order = np.arange(112 * 112)
    x, y = faith.deletion_curve(model, crop, order, 1, 0, steps=2)
    np.testing.assert_allclose(x, [0, 0.5, 1])
    blurred = faith.make_baseline(crop, "blurred")
    assert y[0] == pytest.approx(faith.scores(model, crop[None], 1, 0)[0], abs=1e-4)
    assert y[-1] == pytest.approx(faith.scores(model, blurred[None], 1, 0)[0], abs=1e-4)


def test_speed_report(model):
    crop = np.random.default_rng(1).integers(0, 256, (112, 112, 3), dtype=np.uint8)
    times = speed.time_maps(model, [crop], METHODS, **FAST)
    assert set(times) == set(METHODS) and all(len(s) == 1 and (s > 0).all() for s in times.values())
    ms = speed.time_inference(model, crop, calls=3, warmup=1)
    assert ms.shape == (3,) and (ms > 0).all()
    r = speed.report(times, ms, dict(FAST))
    assert set(r["maps"]) == set(METHODS) and r["maps"]["integrated_gradients"]["target_s"] == speed.IG_TARGET_S
    assert r["inference"]["pass"] == (float(np.median(ms)) < speed.INFERENCE_TARGET_MS)
    speed.print_report(r)
    caps = speed.propose_caps(
        {"integrated_gradients": 0.8, "smoothgrad": 6.4, "occlusion": 2.0}, {"steps": 32, "samples": 8, "window": 16}
    )
    assert caps["integrated_gradients"]["predicted_s"] < speed.IG_TARGET_S
    assert caps["smoothgrad"]["predicted_s"] < 1 and caps["occlusion"]["predicted_s"] < 1
