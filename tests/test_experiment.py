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
    assert preset.priors == ("unaffected", "features")  # both generator priors, side by side
    arms_per_backbone = 1 + len(preset.priors) * (len(preset.scales) + 1)
    assert len(rows) == len(preset.backbones) * arms_per_backbone * len(preset.seeds)
    assert {r["backbone"] for r in rows} == set(exp.BACKBONES)
    for bb in exp.BACKBONES:
        mine = [r for r in rows if r["backbone"] == bb]
        real = next(r for r in mine if r["arm"] == "real_only")
        assert real["prior"] == "-"
        for prior in preset.priors:
            scales = [
                int(r["synthetic_per_class"]) for r in mine if r["arm"] == "synthetic_only" and r["prior"] == prior
            ]
            assert sorted(scales) == list(preset.scales)
            mixed = [r for r in mine if r["arm"] == "real_plus_synthetic" and r["prior"] == prior]
            assert len(mixed) == 1 and int(mixed[0]["synthetic_per_class"]) in preset.scales
            # the mixed arm has the real images plus the chosen synthetic scale, per class
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
    assert "| resnet18 | real_only | - |" in text and "not the clinical claim" in text
    # one verdict per prior
    assert text.count("synthetic-only training") == 2 and "With the feature prior" in text
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


def test_shipped_classifier_judges_each_priors_samples(smoke):
    classes = exp.PRESETS["smoke"].classes
    for name, prior in (("synthetic_check.json", "unaffected"), ("synthetic_check_features.json", "features")):
        check = json.loads((smoke / name).read_text())
        assert check["prior"] == prior and list(check["per_class"]) == list(classes)
        assert all(0.0 <= v <= 1.0 for v in check["per_class"].values())
        assert check["mean_top1"] == pytest.approx(np.mean(list(check["per_class"].values())))
        assert check["chance"] == pytest.approx(1 / len(classes))
    text = (smoke / "results.md").read_text()
    assert "face prior (unaffected children)'s samples show" in text and "feature prior" in text


def test_the_feature_prior_sees_features_but_no_syndrome(smoke):
    from models.classifier.data import load_rows
    from models.generator.config import GeneratorConfig

    rows = load_rows(smoke / "data" / "pretrain_features")
    assert {r["syndrome"] for r in rows} == {"unaffected"}  # no syndrome label
    assert np.mean([len(r["hpo_terms"]) for r in rows]) >= 2  # but features, in random company
    args = json.loads((smoke / "generator_features" / "train_args.json").read_text())
    assert args["pretrain_labels"] == "none" and args["condition_on_hpo"]
    # it keeps a slot for every feature its prior learned, beyond the few the 3 real children per class show
    face, features = (GeneratorConfig.load(smoke / g).hpo_vocabulary for g in ("generator", "generator_features"))
    assert set(face) < set(features)


def test_prevalence_is_the_mean_frequency_over_syndromes_and_ends_of_a_measurement_never_meet():
    from models.experiments.data import feature_prevalence, feature_subjects
    from models.phenotype.catalog import load_catalog
    from models.phenotype.engine3d import DRAWN_3D
    from models.phenotype.morphology import FEATURES

    prevalence = feature_prevalence("phenotype_3d")
    assert set(prevalence) <= DRAWN_3D and all(0 < p < 1 for p in prevalence.values())
    catalog = load_catalog()
    syndromes = [catalog.get(k) for k in catalog.keys() if k != "unaffected"]
    brachy = [max((t.sampling_frequency for t in s.terms if t.depicted and t.renders_as == "HP:0000248"), default=0)
              for s in syndromes]  # fmt: skip
    assert prevalence["HP:0000248"] == pytest.approx(np.mean(brachy))
    for subject in feature_subjects(200, seed=1, engine="phenotype_3d"):
        dims = [FEATURES[t].dimension for t in subject.features]
        assert len(dims) == len(set(dims)) and subject.syndrome == "unaffected"


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


def test_the_generators_precision_can_be_set_where_bfloat16_would_be_emulated(tmp_path, monkeypatch):
    seen = {}

    def run(preset, out, *args, **kwargs):
        seen["preset"] = preset
        (out / "results.md").write_text("", encoding="utf-8")

    monkeypatch.setattr(exp, "run", run)
    tmp_path.joinpath("a").mkdir()
    assert exp.main(["--preset", "paper", "--out", str(tmp_path / "a"), "--gen-precision", "no"]) == 0
    assert seen["preset"].gen_precision == "no" and exp.PRESETS["paper"].gen_precision == "bf16"
    with pytest.raises(SystemExit):
        exp.main(["--preset", "paper", "--out", str(tmp_path / "a"), "--gen-precision", "fp64"])
