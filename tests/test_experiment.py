"""The synthetic-versus-real protocol: the smoke preset end to end, resume, and the real-data split."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from models.experiments import synthetic_vs_real as exp  # noqa: E402
from models.phenotype.cohort import draw_subjects, write_cohort  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("exp") / "smoke"
    assert exp.main(["--preset", "smoke", "--out", str(out)]) == 0
    return out


def test_smoke_preset_runs_every_arm_and_backbone(smoke):
    preset = exp.PRESETS["smoke"]
    with open(smoke / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    arms_per_backbone = 1 + len(preset.scales) + 1
    assert len(rows) == len(preset.backbones) * arms_per_backbone * len(preset.seeds)
    assert {r["backbone"] for r in rows} == set(exp.BACKBONES)
    for bb in exp.BACKBONES:
        mine = [r for r in rows if r["backbone"] == bb]
        assert sorted(int(r["synthetic_per_class"]) for r in mine if r["arm"] == "synthetic_only") == list(
            preset.scales
        )
        mixed = [r for r in mine if r["arm"] == "real_plus_synthetic"]
        assert len(mixed) == 1 and int(mixed[0]["synthetic_per_class"]) in preset.scales
        # the mixed arm has the real images plus the chosen synthetic scale, per class
        real = next(r for r in mine if r["arm"] == "real_only")
        n_classes = len(preset.classes)
        assert int(mixed[0]["train_images"]) == int(real["train_images"]) + n_classes * int(
            mixed[0]["synthetic_per_class"]
        )
    assert all(r["steps"] == str(preset.steps) for r in rows)
    for r in rows:
        for m in ("test_top1", "test_top5", "test_balanced_accuracy"):
            assert 0.0 <= float(r[m]) <= 1.0
        assert float(r["test_top1"]) <= float(r["test_top5"])
    text = (smoke / "results.md").read_text()
    assert "| resnet18 | real_only |" in text and "not the clinical claim" in text
    timings = json.loads((smoke / "timings.json").read_text())
    assert set(timings) == {"data", "generator", "sampling"} and timings["generator"] > 0
    assert "Compute time, summed over invocations" in text and "not recorded" not in text
    assert (smoke / "accuracy_vs_scale.png").stat().st_size > 10_000
    assert (smoke / "generator" / "model_index.json").is_file()
    images = np.load(smoke / "synthetic" / "down.npz")["images"]
    assert images.shape == (max(preset.scales), preset.resolution, preset.resolution, 3)


def test_rerun_skips_finished_cells(smoke):
    cell = smoke / "cells" / "resnet18" / "real_only-s0.json"
    before = cell.stat().st_mtime_ns
    timings_before = json.loads((smoke / "timings.json").read_text())
    record = json.loads(cell.read_text())
    record["wall_s"] = -1.0  # a marker: a skipped cell keeps it
    cell.write_text(json.dumps(record))
    assert exp.main(["--preset", "smoke", "--out", str(smoke)]) == 0
    assert json.loads(cell.read_text())["wall_s"] == -1.0
    assert cell.stat().st_mtime_ns >= before
    with open(smoke / "results.csv", newline="") as f:
        assert any(r["wall_s"] == "-1.0" for r in csv.DictReader(f))
    # the rerun found every stage done: it adds only the moments it took to see that
    assert json.loads((smoke / "timings.json").read_text())["generator"] < timings_before["generator"] + 5


def test_real_data_split_is_by_subject(tmp_path):
    classes = ["unaffected", "down"]
    subjects = draw_subjects(classes, 6, seed=9)
    write_cohort(tmp_path / "real", subjects, size=128, counterfactual=True, mark=False)
    from models.classifier.data import load_rows

    rows = load_rows(tmp_path / "real")
    split = exp.split_real(tmp_path / "real", exp.PRESETS["paper"], tmp_path / "out")
    ids = {s: {rows[i]["subject_id"] for i in idx} for s, idx in split.items()}
    assert not (ids["train"] & ids["val"]) and not (ids["train"] & ids["test"]) and not (ids["val"] & ids["test"])
    per_class = {c: sum(rows[i]["syndrome"] == c for i in split["train"]) for c in classes}
    assert per_class == {"unaffected": 4, "down": 4}  # 6 children: 4 train, 1 val, 1 test
    assert len(split["test"]) == 2


def test_bad_arguments(tmp_path, capsys):
    assert exp.main(["--preset", "smoke", "--out", str(tmp_path), "--real-data", str(tmp_path / "none")]) == 2
    assert "metadata.csv" in capsys.readouterr().err
    assert exp.main(["--preset", "smoke", "--out", str(tmp_path), "--backbones", "resnet18,nonsense_net"]) == 2
    assert "nonsense_net" in capsys.readouterr().err


def test_shipped_classifier_judges_the_synthetic_samples(smoke):
    check = json.loads((smoke / "synthetic_check.json").read_text())
    classes = exp.PRESETS["smoke"].classes
    assert list(check["per_class"]) == list(classes)
    assert all(0.0 <= v <= 1.0 for v in check["per_class"].values())
    assert check["mean_top1"] == pytest.approx(np.mean(list(check["per_class"].values())))
    assert check["chance"] == pytest.approx(1 / len(classes))
    assert "Do the synthetic samples show their syndrome?" in (smoke / "results.md").read_text()


def test_the_mixed_arm_draws_half_real_half_synthetic_in_every_batch():
    from models.experiments.cells import batch_indices

    synthetic = np.r_[np.zeros(5, bool), np.ones(100, bool)]  # 5 real, 100 synthetic: 1 to 20
    for idx in batch_indices(len(synthetic), 32, 20, seed=0, synthetic=synthetic):
        assert len(idx) == 32 and int(synthetic[idx.numpy()].sum()) == 16
    # without the mix, batches are uniform draws, as before (the same indices for the same seed)
    import torch

    g = torch.Generator().manual_seed(3)
    before = [torch.randint(105, (32,), generator=g) for _ in range(4)]
    assert all(torch.equal(a, b) for a, b in zip(before, batch_indices(105, 32, 4, seed=3), strict=True))
