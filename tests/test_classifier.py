"""Classifier: preprocessing, subject split, a one-epoch training run, resume, evaluation, oracle."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from models.alignment import align_face, preprocess  # noqa: E402
from models.classifier import metrics  # noqa: E402
from models.classifier.config import ClassifierConfig  # noqa: E402
from models.classifier.data import class_list, class_weights, load_rows, split_by_subject  # noqa: E402
from models.classifier.model import Classifier, load_classifier  # noqa: E402
from models.phenotype.cohort import draw_subjects, write_cohort  # noqa: E402
from models.phenotype.spec import RenderSpec  # noqa: E402
from models.phenotype.synthesizer import render  # noqa: E402

CLASSES = ["unaffected", "down", "williams_beuren"]


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("cohort")
    write_cohort(out, draw_subjects(CLASSES, 4, seed=1), size=128, counterfactual=True, mark=False)
    return out


def train(data, out, *extra):
    from models.classifier import train as train_cli

    argv = [
        "--data",
        str(data),
        "--out",
        str(out),
        "--backbone",
        "resnet18",
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--seed",
        "3",
        "--val-fraction",
        "0.25",
        "--quiet",
        *extra,
    ]
    assert train_cli.cli(argv) == 0


@pytest.fixture(scope="module")
def trained(cohort, tmp_path_factory):
    out = tmp_path_factory.mktemp("model")
    train(cohort, out)
    return out


# preprocessing -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def face():
    return render(RenderSpec(syndrome="unaffected", age=6, seed=11, size=256))


def test_preprocess_shape_and_landmark_path(face):
    crop = preprocess(face.image)
    assert crop.shape == (112, 112, 3) and crop.dtype == np.uint8
    given = preprocess(face.image, landmarks=face.landmarks)
    # mesh and renderer landmarks differ by a pixel or two, so the crops nearly agree
    assert np.abs(crop.astype(int) - given.astype(int)).mean() < 20


def test_preprocess_blank_image_raises():
    with pytest.raises(ValueError, match="no face found"):
        preprocess(np.full((200, 200, 3), 128, np.uint8))


def test_preprocess_two_faces_raise(face):
    with pytest.raises(ValueError, match="several faces"):
        preprocess(np.concatenate([face.image, face.image], axis=1))


@pytest.mark.parametrize("mode", ["L", "RGBA"])
def test_preprocess_grayscale_and_rgba(face, mode):
    assert preprocess(Image.fromarray(face.image).convert(mode)).shape == (112, 112, 3)


def test_preprocess_tiny_and_truncated(face, tmp_path):
    with pytest.raises(ValueError, match="too small"):
        preprocess(np.zeros((16, 16, 3), np.uint8))
    buf = io.BytesIO()
    Image.fromarray(face.image).save(buf, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ValueError, match="could not read"):
        preprocess(path)


def test_preprocess_honours_exif_orientation(face, tmp_path):
    rotated = Image.fromarray(face.image).rotate(90, expand=True)  # stored sideways ...
    exif = Image.Exif()
    exif[0x0112] = 6  # ... with orientation "rotate 90 CW to display"
    path = tmp_path / "sideways.jpg"
    rotated.save(path, exif=exif, quality=95)
    upright = align_face(face.image).image.astype(int)
    assert np.abs(preprocess(path).astype(int) - upright).mean() < 20


@pytest.mark.slow
def test_preprocess_huge_image(face):
    big = np.asarray(Image.fromarray(face.image).resize((10_000, 10_000), Image.BILINEAR))
    assert preprocess(big).shape == (112, 112, 3)


# data ----------------------------------------------------------------------------------------------------


def test_rows_drop_counterfactuals_and_split_by_subject(cohort):
    rows = load_rows(cohort)
    assert len(rows) == 12 and all(r["intensity"] != 0 for r in rows)
    assert class_list(rows) == CLASSES
    train_idx, val_idx = split_by_subject(rows, 0.25, seed=0)
    assert sorted(train_idx + val_idx) == list(range(12))
    assert not {rows[i]["subject_id"] for i in train_idx} & {rows[i]["subject_id"] for i in val_idx}
    assert {rows[i]["syndrome"] for i in val_idx} == set(CLASSES)  # stratified
    assert split_by_subject(rows, 0.25, seed=0) == (train_idx, val_idx)


def test_class_weights_balance():
    w = class_weights([0, 0, 0, 1], 3)
    assert w[2] == 0 and w[1] == pytest.approx(3 * w[0]) and w[:2].mean() == pytest.approx(1.0)


@pytest.mark.parametrize("backbone", ["resnet18", "efficientnet_b0", "mobilenetv3_large_100", "convnext_atto"])
def test_backbones_build_without_download(backbone):
    model = Classifier(ClassifierConfig(backbone=backbone, classes=CLASSES)).eval()
    with torch.inference_mode():
        assert model(torch.rand(2, 3, 112, 112)).shape == (2, 3)
    assert model.gradcam_layer() is not None


# training, resume, evaluation ----------------------------------------------------------------------------


def test_training_writes_files_that_load_back(trained):
    for name in ("model.safetensors", "config.json", "metrics.jsonl", "README.md", "train_args.json"):
        assert (trained / name).is_file(), name
    config = ClassifierConfig.load(trained)
    assert config.classes == CLASSES and config.input_size == 112
    lines = (trained / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["epoch"] == 1
    card = (trained / "README.md").read_text()
    assert "seed: 3" in card and "python -m models.classifier.train" in card and "not a diagnostic" in card.lower()
    model = load_classifier(trained)
    with torch.inference_mode():
        probs = model(torch.rand(3, 3, 112, 112)).softmax(1)
    assert probs.shape == (3, 3) and torch.isfinite(probs).all()


def test_fast_predictor_matches_the_model_and_leaves_it_as_it_was(trained):
    from models.classifier.inference import fast_predictor

    model = load_classifier(trained)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.rand(2, 3, 112, 112)
    predict = fast_predictor(model, batch=2)
    with torch.inference_mode():
        eager = model(x)
    torch.testing.assert_close(predict(x), eager, rtol=1e-3, atol=1e-3)
    assert model.state_dict().keys() == before.keys()
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())
    assert next(model.parameters()).is_contiguous()  # not switched to channels-last in place


def test_training_is_deterministic(cohort, trained, tmp_path):
    from safetensors.torch import load_file

    train(cohort, tmp_path / "again")
    a, b = load_file(str(trained / "model.safetensors")), load_file(str(tmp_path / "again" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_from_latest_checkpoint(cohort, trained, tmp_path):
    out = tmp_path / "resumed"
    shutil.copytree(trained, out)
    assert (out / "checkpoint-2").is_dir()
    train(cohort, out, "--epochs", "2", "--resume_from_checkpoint", "latest")
    epochs = [json.loads(line)["epoch"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert epochs == [1, 2]
    assert (out / "checkpoint-4").is_dir()


def test_a_new_run_into_a_folder_holding_a_run_is_refused_and_the_folder_kept(cohort, trained, tmp_path, capsys):
    # the same command run again without --resume_from_checkpoint started over in the old run's folder:
    # it emptied its log and mixed new checkpoints with the old ones
    from models.classifier import train as train_cli

    out = tmp_path / "kept"
    shutil.copytree(trained, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code = train_cli.cli(["--data", str(cohort), "--out", str(out), "--epochs", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "already holds a training run" in err and "--resume_from_checkpoint latest" in err
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_bf16_on_a_cpu_without_it_warns_that_it_is_emulated():
    from models.training import bf16_warning, cpu_info

    info = cpu_info()
    assert set(info) == {"cpu_model", "vector", "native_bf16"} or info == {}
    warned = bf16_warning("bf16", on_gpu=False)
    assert (warned is not None) == (info.get("native_bf16") == "no")
    assert bf16_warning("no", on_gpu=False) is None and bf16_warning("bf16", on_gpu=True) is None


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU message")
def test_fp16_on_cpu_is_a_clear_error(cohort, tmp_path, capsys):
    from models.classifier import train as train_cli

    code = train_cli.cli(["--data", str(cohort), "--out", str(tmp_path), "--mixed_precision", "fp16"])
    assert code == 2 and "needs a CUDA GPU" in capsys.readouterr().err


def test_evaluate_writes_metrics_and_confusion_matrix(cohort, trained, tmp_path):
    from models.classifier import evaluate

    assert (
        evaluate.main(
            ["--model", str(trained), "--data", str(cohort), "--out", str(tmp_path), "--quiet", "--bootstrap", "50"]
        )
        == 0
    )
    result = json.loads((tmp_path / "metrics.json").read_text())
    overall = result["overall"]
    assert overall["n"] == 12 and overall["top1"] <= overall["top5"]
    # the per-syndrome mean is the mean of the per-class sensitivities, computed apart
    sensitivity = result["per_class_sensitivity"]
    mean = np.mean([sensitivity[c]["sensitivity"] for c in CLASSES])
    assert overall["per_syndrome_top1"] == pytest.approx(mean, abs=1e-3)
    assert set(result["by_sex"]) <= {"female", "male"} and result["by_skin_tone"] and result["by_age_band"]
    assert set(result["by_ancestry"]) == {"unknown"}  # the 2.5D cohort draws no ancestry
    assert set(result["per_class_sensitivity"]) == set(CLASSES)
    assert Image.open(tmp_path / "confusion_matrix.png").size[0] > 100


def test_oracle_on_hpo_terms(cohort):
    from models.classifier.oracle import fit_and_score

    rows = load_rows(cohort)
    train_idx, test_idx = split_by_subject(rows, 0.5, seed=0)
    result = fit_and_score([rows[i] for i in train_idx], [rows[i] for i in test_idx], n_boot=20)
    # scored on children it was not fitted on: syndromic children carry their HPO terms
    assert result["overall"]["per_syndrome_top1"] > 0.6


def test_metrics_reference_values():
    lo, hi = metrics.wilson_interval(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-3) and hi == pytest.approx(0.9433, abs=1e-3)
    # the percentile bootstrap of a proportion agrees with Wilson's interval at n = 100, and its seed fixes it
    right = np.array([1.0] * 60 + [0.0] * 40)
    boot = metrics.bootstrap_interval(lambda i: float(right[i].mean()), 100, n_boot=2000, seed=3)
    assert np.allclose(boot, metrics.wilson_interval(60, 100), atol=0.02) and boot[0] < 0.6 < boot[1]
    assert boot == metrics.bootstrap_interval(lambda i: float(right[i].mean()), 100, n_boot=2000, seed=3)
    assert np.isnan(metrics.bootstrap_interval(lambda i: 0.0, 0)).all()
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    labels = np.array([0, 1, 1])
    assert metrics.topk_accuracy(probs, labels, 1) == pytest.approx(2 / 3)
    assert metrics.per_syndrome_mean_topk(probs, labels, 1) == pytest.approx(0.75)
    assert metrics.expected_calibration_error(np.eye(2), np.array([0, 1])) == 0.0


def test_temperature_scaling_recovers_a_known_temperature_and_keeps_rankings():
    from models.classifier.calibrate import fit_temperature

    rng = np.random.default_rng(0)
    # calibrated logits: labels drawn from softmax(z); the same logits sharpened 3x are overconfident
    z = rng.normal(0, 2, (4000, 5))
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    labels = np.array([rng.choice(5, p=row) for row in p])
    assert fit_temperature(3 * z, labels) == pytest.approx(3.0, rel=0.08)
    ece_sharp = metrics.expected_calibration_error(np.exp(3 * z) / np.exp(3 * z).sum(1, keepdims=True), labels)
    t = fit_temperature(3 * z, labels)
    scaled = np.exp(3 * z / t) / np.exp(3 * z / t).sum(1, keepdims=True)
    assert metrics.expected_calibration_error(scaled, labels) < ece_sharp / 3
    assert (scaled.argmax(1) == z.argmax(1)).all()
    with pytest.raises(ValueError, match="labels within"):
        fit_temperature(z[:3], np.array([0, 1, 7]))


def test_training_fits_the_temperature_on_its_validation_children_and_the_model_applies_it(trained, cohort, tmp_path):
    from models.classifier.calibrate import calibrate, validation_split
    from models.classifier.config import ClassifierConfig
    from models.classifier.model import predict_logits

    config = ClassifierConfig.load(trained)
    result = json.loads((trained / "calibration.json").read_text())
    assert config.temperature == pytest.approx(result["temperature"]) and config.temperature != 1.0
    assert result["nll_after"] <= result["nll_before"] + 1e-9
    crops, labels = validation_split(trained, cohort)
    assert result["n"] == len(labels) > 0
    model = load_classifier(trained)
    scaled = predict_logits(model, crops)
    model.config.temperature = 1.0
    raw = predict_logits(model, crops)
    np.testing.assert_allclose(scaled, raw / config.temperature, rtol=1e-5, atol=1e-6)
    # fitting again from the calibrated model finds the same temperature (it undoes the stored one first)
    again = tmp_path / "again"
    shutil.copytree(trained, again)
    assert calibrate(again, cohort)["temperature"] == pytest.approx(config.temperature, rel=1e-3)
    broken = json.loads((trained / "config.json").read_text()) | {"temperature": -1}
    (again / "config.json").write_text(json.dumps(broken))
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        ClassifierConfig.load(again)


def test_the_cards_test_section_is_written_from_the_results_files(tmp_path):
    import re

    from models.classifier.model_card import TEST_HEADING, write_held_out_section

    metrics = json.loads(open("assets/classifier/eval_test_metrics.json", encoding="utf-8").read())
    metrics["by_ancestry"] = {"african": metrics["by_sex"]["female"], "unknown": metrics["by_sex"]["male"]}
    oracle = {"n_terms": 78, "overall": {"per_syndrome_top1": 0.98, "per_syndrome_top5": 1.0}}
    (tmp_path / "eval_test_metrics.json").write_text(json.dumps(metrics))
    (tmp_path / "oracle_test_metrics.json").write_text(json.dumps(oracle))
    (tmp_path / "README.md").write_text(f"# card\n\ntraining part\n\n{TEST_HEADING}\n\nold figures 0.123\n")
    card = write_held_out_section(tmp_path, "python -m models.phenotype.cohort ...", "m", "d").read_text()
    assert card.startswith("# card\n\ntraining part\n\n" + TEST_HEADING) and "0.123" not in card
    share = metrics["overall"]["per_syndrome_top1"] / 0.98
    assert f"**{share:.1%} of that ceiling**" in card
    female = metrics["by_sex"]["female"]
    assert f"| african | {female['n']} | {female['top1']:.3f} " in card and "| unknown |" not in card
    rows = re.findall(r"^\| (\w+) \| ([\d.]+) \(", card, flags=re.M)
    assert dict(rows)["unaffected"] == f"{metrics['per_class_sensitivity']['unaffected']['sensitivity']:.2f}"
    assert card.count(TEST_HEADING) == 1
