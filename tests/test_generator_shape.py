"""Shape-conditioned generator: contour landmarks, the linear shape model, the landmark map and its training."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from models.generator import components  # noqa: E402
from models.generator.components import PhenoFaceShapeModel  # noqa: E402
from models.generator.config import GeneratorConfig, build_scheduler, build_unet, with_shape_channels  # noqa: E402
from models.generator.pipeline import PhenoFacePipeline, condition_dim, landmark_map  # noqa: E402
from models.phenotype.cohort import draw_subjects, write_cohort  # noqa: E402

CLASSES = ["unaffected", "down", "williams_beuren"]
TINY = dict(resolution=32, block_out_channels=(16, 32), attention_levels=(1,), class_names=CLASSES)
#: A three-point "face": one eye edge (channel 0), one mouth edge (channel 1), one outline edge (channel 2).
EDGES = [[0, 1, 0], [1, 2, 1], [2, 0, 2]]

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def toy_shape_arrays(d: int, shift: float = 0.0) -> dict:
    """A shape model's arrays over 3 points whose syndrome slot 1 ("down") moves point 0 right by `shift`."""
    weight = np.zeros((d, 6))
    weight[1, 0] = shift
    return {
        "edges": EDGES,
        "weight": weight.tolist(),
        "bias": [0.3, 0.35, 0.7, 0.35, 0.5, 0.75],
        "basis": [[0.0, 1.0, 0.0, 0.0, 0.0, 0.0]],
        "scale": [0.05],
    }


def toy_shape_model(d: int, shift: float = 0.0) -> PhenoFaceShapeModel:
    """`toy_shape_arrays` as the pipeline's shape component."""
    return PhenoFaceShapeModel.from_arrays(toy_shape_arrays(d, shift))


def shape_pipeline(seed: int = 0, shift: float = 0.2) -> PhenoFacePipeline:
    torch.manual_seed(seed)
    config = GeneratorConfig(**TINY, shape_channels=3)
    return PhenoFacePipeline(
        unet=build_unet(config),
        scheduler=build_scheduler(config),
        class_names=CLASSES,
        shape_model=toy_shape_model(condition_dim(len(CLASSES)), shift),
    )


def test_landmark_map_draws_each_edge_group_into_its_channel():
    points = np.array([[[0.25, 0.25], [0.75, 0.25], [0.5, 0.75]], [[np.nan, np.nan]] * 3])
    m = landmark_map(points, EDGES, 32, 3)
    assert m.shape == (2, 3, 32, 32) and m.dtype == torch.float32
    assert 0.0 <= float(m.min()) and float(m.max()) <= 1.0
    eye = m[0, 0]
    assert float(eye[8, 8:24].mean()) > 0.5  # the horizontal edge at y = 0.25
    assert float(eye[16:, :].sum()) == 0.0  # nothing of the eye channel below it
    assert float(m[0, 1].sum()) > 0 and float(m[0, 2].sum()) > 0
    assert float(m[1].abs().sum()) == 0.0  # no landmarks found: an empty map


def test_the_drawn_shape_conditions_the_image_and_follows_the_seed():
    pipe = shape_pipeline()
    assert pipe.unet.config.in_channels == 6 and pipe.unet.config.out_channels == 3
    # a fresh UNet's conv_in weights are random, so the map reaches the output
    noise = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    wide = np.array([[[0.2, 0.3], [0.8, 0.3], [0.5, 0.8]]])
    narrow = np.array([[[0.4, 0.3], [0.6, 0.3], [0.5, 0.8]]])

    def draw(points):
        return pipe(syndrome="down", latents=noise.clone(), landmarks=points, num_inference_steps=2, output_type="np")

    assert np.abs(draw(wide).images - draw(narrow).images).mean() > 1e-3
    cond = torch.zeros(2, condition_dim(len(CLASSES)))
    cond[1, 1] = 1.0  # "down"
    shapes = pipe.draw_shapes(cond, torch.zeros(2, 1))
    assert shapes.shape == (2, 3, 2)
    assert shapes[1, 0, 0] == pytest.approx(shapes[0, 0, 0] + 0.2)  # the syndrome's offset
    one = pipe(syndrome="down", num_inference_steps=2, generator=torch.Generator().manual_seed(5), output_type="np")
    two = pipe(syndrome="down", num_inference_steps=2, generator=torch.Generator().manual_seed(5), output_type="np")
    assert np.array_equal(one.images, two.images)
    with pytest.raises(ValueError, match=r"landmarks must have shape \(1, 3, 2\)"):
        pipe(syndrome="down", landmarks=np.zeros((1, 4, 2)), num_inference_steps=1)
    for bad in (np.where(np.arange(6).reshape(1, 3, 2) == 0, np.nan, wide), np.full((1, 3, 2), np.inf), wide + 2):
        # a face with no usable shape would otherwise be drawn unshaped without a word
        with pytest.raises(ValueError, match="landmarks must be finite and within -0.5 to 1.5"):
            pipe(syndrome="down", landmarks=bad, num_inference_steps=1)
    with pytest.raises(ValueError, match="batch_size must be a whole number of at least 1"):
        pipe(syndrome="down", batch_size=0, num_inference_steps=1)


def test_feature_weights_favour_the_inner_features_and_keep_the_loss_scale():
    from models.generator.loss import diffusion_loss, feature_weights

    points = np.array([[[0.25, 0.25], [0.75, 0.25], [0.5, 0.75]]] * 2)
    maps = landmark_map(points, EDGES, 32, 3)
    w = feature_weights(maps, 2, 4.0)
    assert w.shape == (2, 1, 32, 32) and w.dtype == torch.float32
    assert torch.allclose(w.mean(dim=(1, 2, 3)), torch.ones(2))
    eye, outline_only, corner = float(w[0, 0, 8, 16]), float(w[0, 0, 20, 10]), float(w[0, 0, 31, 0])
    assert eye > 3 * corner and outline_only == pytest.approx(corner)  # the face oval (channel 2) is not weighed
    assert float(w[0, 0, 6, 16]) == pytest.approx(eye, rel=0.3)  # 2 px from the contour still counts
    assert torch.allclose(feature_weights(maps, 2, 0.0), torch.ones(2, 1, 32, 32))
    # the same error costs more on the eye than in the corner
    target = torch.zeros(2, 3, 32, 32)
    on_eye, in_corner = target.clone(), target.clone()
    on_eye[:, :, 8, 16] = 1.0
    in_corner[:, :, 31, 0] = 1.0
    sched = build_scheduler(GeneratorConfig(**TINY))
    t = torch.tensor([10, 500])
    assert float(diffusion_loss(on_eye, target, t, sched, None, "epsilon", w)) > 3 * float(
        diffusion_loss(in_corner, target, t, sched, None, "epsilon", w)
    )
    plain = diffusion_loss(on_eye, target, t, sched, None, "epsilon")
    assert torch.allclose(diffusion_loss(on_eye, target, t, sched, None, "epsilon", torch.ones(2, 1, 32, 32)), plain)
    with pytest.raises(ValueError, match="must be >= 0"):
        feature_weights(maps, 2, -1.0)
    with pytest.raises(ValueError, match="channels must be 1 to 3"):
        feature_weights(maps, 4, 1.0)


def test_shape_model_and_unet_must_agree():
    config = GeneratorConfig(**TINY)
    with pytest.raises(ValueError, match="reads 3 input channels, but the image and landmark map have 6"):
        PhenoFacePipeline(
            unet=build_unet(config), scheduler=build_scheduler(config), class_names=CLASSES,
            shape_model=toy_shape_model(condition_dim(len(CLASSES))),
        )  # fmt: skip
    plain = PhenoFacePipeline(unet=build_unet(config), scheduler=build_scheduler(config), class_names=CLASSES)
    with pytest.raises(ValueError, match="not conditioned on face shape"):
        plain(syndrome="down", landmarks=np.zeros((1, 3, 2)), num_inference_steps=1)
    wide = GeneratorConfig(**TINY, shape_channels=3)
    with pytest.raises(ValueError, match="reads conditions of size 4"):
        PhenoFacePipeline(
            unet=build_unet(wide), scheduler=build_scheduler(wide), class_names=CLASSES,
            shape_model=toy_shape_model(4),
        )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(edges=[[0, 7, 0]]), "edges must join points 0 to 2"),
        (lambda m: m.update(edges=[]), "non-empty list"),
        (lambda m: m["bias"].__setitem__(0, float("nan")), "non-finite"),
        (lambda m: m.update(basis=[]), r"basis must be \(1, 6\)"),
        (lambda m: m.update(bias=m["bias"][:5]), "bias must hold"),
        (lambda m: m.pop("scale"), "lacks scale"),
    ],
)
def test_a_damaged_shape_model_is_refused_with_its_fault(change, message):
    arrays = toy_shape_arrays(condition_dim(len(CLASSES)))
    change(arrays)
    with pytest.raises(ValueError, match=message):
        PhenoFaceShapeModel.from_arrays(arrays)


def test_shape_channels_added_to_a_trained_generator_start_at_zero_weight():
    torch.manual_seed(3)
    config = GeneratorConfig(**TINY)
    plain = PhenoFacePipeline(unet=build_unet(config), scheduler=build_scheduler(config), class_names=CLASSES)
    wide_config = GeneratorConfig(**TINY, shape_channels=3)
    wide = PhenoFacePipeline(
        unet=with_shape_channels(plain.unet, wide_config), scheduler=build_scheduler(wide_config),
        class_names=CLASSES, shape_model=toy_shape_model(condition_dim(len(CLASSES))),
    )  # fmt: skip
    noise = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    before = plain(syndrome="down", latents=noise.clone(), num_inference_steps=3, output_type="np").images
    after = wide(syndrome="down", latents=noise.clone(), num_inference_steps=3, output_type="np").images
    assert np.allclose(before, after, atol=1e-6)
    with pytest.raises(ValueError, match="already reads 6 input channels"):
        with_shape_channels(wide.unet, wide_config)


def test_fit_shape_model_learns_a_syndrome_offset_and_skips_faces_without_landmarks():
    from models.generator.shape import contour_topology, fit_shape_model

    mesh_index, edges = contour_topology()
    assert len(mesh_index) == 160 and edges[:, 2].max() == 2
    rng = np.random.default_rng(0)
    n, p = 120, len(mesh_index)
    cond = np.zeros((n, condition_dim(len(CLASSES))))
    cond[np.arange(n), rng.integers(0, 3, n)] = 1.0
    base = rng.uniform(0.2, 0.8, (p, 2))
    points = base + 0.01 * rng.standard_normal((n, p, 2))
    points[:, 0, 0] += 0.1 * cond[:, 1]  # children with Down syndrome: point 0 sits further right
    points[5] = np.nan
    model = fit_shape_model(points.astype(np.float32), cond, n_components=4, ridge=0.01)
    weight, bias = np.array(model["weight"]), np.array(model["bias"])
    assert weight.shape == (cond.shape[1], 2 * p) and np.array(model["basis"]).shape == (4, 2 * p)
    assert weight[1, 0] - weight[0, 0] == pytest.approx(0.1, abs=0.01)
    assert not np.isnan(bias).any()
    component = PhenoFaceShapeModel.from_arrays(model)  # what the pipeline saves as shape_model/
    assert component.channels == 3 and component.config.num_points == p
    with pytest.raises(ValueError, match="only 3 training faces have landmarks"):
        fit_shape_model(points[:3], cond[:3], n_components=4)


def test_training_on_shape_fits_a_shape_model_that_sampling_and_diffusers_use(tmp_path, capsys):
    from models.generator import train
    from models.generator.sample import generate, load_generator

    data = tmp_path / "cohort"
    write_cohort(data, draw_subjects(CLASSES, 8, seed=3), size=128, mark=False)
    argv = ["--data", str(data), "--max-train-steps", "2", "--resolution", "32", "--block-out-channels", "16,32"]
    argv += ["--batch-size", "4", "--sample-every", "0", "--quiet", "--shape-components", "3"]
    plain, shaped, warm = tmp_path / "plain", tmp_path / "shaped", tmp_path / "warm"
    assert train.cli([*argv, "--out", str(shaped), "--condition-on-shape"]) == 0
    # the shape model is a component of its own (safetensors), not JSON inside model_index.json
    index = json.loads((shaped / "model_index.json").read_text())
    assert index["shape_model"] == ["components", "PhenoFaceShapeModel"]
    assert (shaped / "shape_model" / "diffusion_pytorch_model.safetensors").is_file()
    shape_config = json.loads((shaped / "shape_model" / "config.json").read_text())
    assert shape_config["num_points"] == 160 and shape_config["num_components"] == 3
    assert (shaped / "shape_model" / "components.py").read_bytes() == Path(components.__file__).read_bytes()
    assert GeneratorConfig.load(shaped).shape_channels == 3
    pipe = load_generator(shaped)
    assert pipe.unet.config.in_channels == 6
    a, b = generate(pipe, ["down", "down"], [4.0, 4.0], ["male"] * 2, [3, 3], [5, 6], steps=2)
    again = generate(pipe, "down", 4.0, "male", 3, [5], steps=2)[0]
    assert np.array_equal(a.image, again.image) and not np.array_equal(a.image, b.image)
    # diffusers alone loads the shape model from the folder's own components.py
    code = (
        "import sys, torch\n"
        f"sys.path = [p for p in sys.path if p not in ('', '.', {os.getcwd()!r})]\n"
        "from diffusers import DiffusionPipeline\n"
        f"p = DiffusionPipeline.from_pretrained({str(shaped)!r}, custom_pipeline={str(shaped)!r}, "
        "trust_remote_code=True)\n"
        "im = p(syndrome='down', num_inference_steps=2, generator=torch.Generator().manual_seed(0)).images[0]\n"
        "assert 'models' not in sys.modules and p.shape_model is not None\n"
        "print(p.unet.config.in_channels, im.size)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": "", "HF_HOME": str(tmp_path / "hf")},
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    assert "6 (32, 32)" in res.stdout

    assert train.cli([*argv, "--out", str(plain)]) == 0
    assert train.cli([*argv, "--out", str(warm), "--init-from", str(plain), "--condition-on-shape"]) == 0
    assert json.loads((warm / "unet" / "config.json").read_text())["in_channels"] == 6
    kept = tmp_path / "kept"
    # a shaped model stays shaped, so its landmark maps can weigh the loss
    assert train.cli([*argv, "--out", str(kept), "--init-from", str(warm), "--feature-loss-weight", "4"]) == 0
    kept_args = json.loads((kept / "train_args.json").read_text())
    assert kept_args["condition_on_shape"] is True and kept_args["feature_loss_weight"] == 4.0
    assert train.cli([*argv, "--out", str(tmp_path / "nofeat"), "--feature-loss-weight", "4"]) == 2
    assert "add --condition-on-shape" in capsys.readouterr().err
    assert train.cli([*argv, "--out", str(tmp_path / "neg"), "--feature-loss-weight", "-1"]) == 2
    assert "--feature-loss-weight must be 0 to 100" in capsys.readouterr().err
    assert train.cli([*argv, "--out", str(warm), "--shape-components", "0"]) == 2
    assert "--shape-components must be 1 to 64" in capsys.readouterr().err
    resume = ["--out", str(plain), "--condition-on-shape", "--resume_from_checkpoint", "latest"]
    assert train.cli([*argv, *resume, "--max-train-steps", "4"]) == 2
    assert "was saved by a run with another UNet" in capsys.readouterr().err
    assert train.cli([*argv, "--out", str(tmp_path / "w64"), "--init-from", str(plain), "--resolution", "64"]) == 2
    assert "draws 32 px faces; train it with --resolution 32" in capsys.readouterr().err


def test_upgrade_brings_an_old_folder_to_the_component_layout_with_the_same_samples(tmp_path, capsys):
    import shutil

    from safetensors.torch import save_file

    from models.generator import upgrade
    from models.generator.privacy_index import Thresholds, build_checker, load_checker, thresholds_of
    from models.generator.sample import generate, load_generator

    pipe = shape_pipeline()
    thresholds = Thresholds(max_distance=0.3, max_ratio=0.5, min_ssim=0.9, source="a test")
    checker = build_checker(torch.randn(6, 128, generator=torch.Generator().manual_seed(1)), thresholds)
    pipe.register_modules(privacy_checker=checker)
    new = tmp_path / "new"
    pipe.save_pretrained(new)
    conditions = (["down", "unaffected"], [4.0, 9.0], ["male", "female"], [3, 8], [5, 6])
    expected = generate(load_generator(new), *conditions, steps=3)
    # the same generator as PhenoFace saved it before 2026-12-07
    old = tmp_path / "old"
    shutil.copytree(new, old)
    index = json.loads((old / "model_index.json").read_text())
    index["shape_model"] = toy_shape_arrays(condition_dim(len(CLASSES)), 0.2)
    index["scheduler"] = ["diffusers", "DDIMScheduler"]
    del index["privacy_checker"]
    (old / "model_index.json").write_text(json.dumps(index))
    for part in ("shape_model", "privacy_checker", "scheduler"):
        shutil.rmtree(old / part)
    build_scheduler(GeneratorConfig(**TINY)).save_pretrained(old / "scheduler")
    meta = {"max_distance": "0.3", "max_ratio": "0.5", "min_ssim": "0.9", "source": "a test"}
    save_file({"vectors": checker.vectors.contiguous()}, str(old / "privacy_index.safetensors"), metadata=meta)
    (old / "generator_config.json").write_text(json.dumps({"resolution": 32, "class_names": CLASSES}))

    assert upgrade.main([str(old)]) == 0 and "upgraded" in capsys.readouterr().err
    assert upgrade.upgrade(old) is False  # already current
    got = generate(load_generator(old), *conditions, steps=3)
    for a, b in zip(expected, got, strict=True):
        assert np.array_equal(a.image, b.image) and a.seed == b.seed
    assert thresholds_of(load_checker(old)) == thresholds
    assert not (old / "privacy_index.safetensors").exists()
    assert json.loads((old / "generator_config.json").read_text()) == {"resolution": 32}
    assert not [p.name for p in old.iterdir() if p.name.startswith(".")]  # no temporary folder left
    assert upgrade.main([str(tmp_path / "nothing")]) == 2 and "not a generator folder" in capsys.readouterr().err
