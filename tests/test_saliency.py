"""Saliency: shapes, determinism, no hooks left behind, IG completeness, regions, the command line."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from models.alignment import align_face  # noqa: E402
from models.classifier.model import save_weights  # noqa: E402
from models.phenotype.spec import RenderSpec  # noqa: E402
from models.phenotype.synthesizer import render  # noqa: E402
from models.saliency import METHODS, attribute, explain, mesh_regions, region_breakdown, warp_masks  # noqa: E402

FAST = {"steps": 8, "samples": 2, "window": 28}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def child():
    sample = render(RenderSpec(syndrome="down", age=7, seed=5, size=256))
    twin = render(RenderSpec(syndrome="down", age=7, seed=5, size=256, intensity=0.0))
    aligned = align_face(sample.image, landmarks=sample.landmarks)
    return sample, twin, aligned


def hooks_left(model) -> int:
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) + len(m._backward_pre_hooks)
        for m in model.modules()
    )


@pytest.mark.parametrize("method", METHODS)
def test_shape_determinism_and_no_hooks(model, child, method):
    crop = child[2].image
    a = attribute(model, crop, method, target="down", contrast="unaffected", baseline="blurred", **FAST)
    b = attribute(model, crop, method, target="down", contrast="unaffected", baseline="blurred", **FAST)
    assert a.attributions.shape == crop.shape and a.heatmap.shape == crop.shape[:2]
    assert np.isfinite(a.attributions).all()
    np.testing.assert_allclose(a.attributions, b.attributions, rtol=1e-5, atol=1e-7)
    assert hooks_left(model) == 0
    assert all(p.grad is None for p in model.parameters())


def test_ig_completeness_against_the_counterfactual(model, child):
    sample, twin, aligned = child
    import cv2

    base = cv2.warpAffine(
        twin.image, aligned.matrix, (112, 112), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    a = attribute(
        model, aligned.image, "integrated_gradients", target="down", contrast="unaffected", baseline=base, steps=64
    )
    with torch.inference_mode():
        x = torch.from_numpy(np.stack([aligned.image, base])).permute(0, 3, 1, 2).float() / 255
        logits = model(x)
    delta = float((logits[0, 1] - logits[0, 0]) - (logits[1, 1] - logits[1, 0]))
    assert a.attributions.sum() == pytest.approx(delta, abs=0.05 + 0.1 * abs(delta))
    assert a.baseline == "counterfactual"


def test_bf16_ig_ranks_pixels_like_fp32_and_app_settings_fall_back(model, child, monkeypatch):
    from scipy.stats import spearmanr

    from models import hardware
    from models.saliency import app_settings

    crop = child[2].image
    kw = {"target": "down", "contrast": "unaffected", "baseline": "blurred", "steps": 16}
    fp32 = attribute(model, crop, "integrated_gradients", precision="fp32", **kw)
    bf16 = attribute(model, crop, "integrated_gradients", precision="bf16", **kw)
    assert bf16.attributions.dtype == np.float32 and not np.array_equal(fp32.attributions, bf16.attributions)
    assert spearmanr(fp32.heatmap.ravel(), bf16.heatmap.ravel()).statistic > 0.9
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        attribute(model, crop, "saliency", precision="fp8")
    monkeypatch.setattr(hardware, "cpu_bf16", lambda: False)
    assert app_settings("integrated_gradients") == {"steps": 24, "precision": "fp32"}
    monkeypatch.setattr(hardware, "cpu_bf16", lambda: True)
    assert app_settings("integrated_gradients") == {"steps": 32, "precision": "bf16"}
    assert app_settings("saliency") == {}


def test_region_breakdown_from_masks_and_mesh(model, child):
    sample, _, aligned = child
    regions = warp_masks(sample.masks, aligned.matrix, 112)
    assert {"eyes", "nose", "mouth"} <= set(regions)
    heat = np.zeros((112, 112), np.float32)
    heat[regions["eyes"]] = 1.0
    shares = region_breakdown(heat, regions)
    assert shares[0].region == "eyes" and shares[0].share == pytest.approx(1.0)
    mesh = align_face(sample.image).mesh
    parts = mesh_regions(mesh, 112)
    stacked = np.stack(list(parts.values()))
    assert stacked.any(axis=(1, 2)).all() and stacked.sum(0).max() == 1  # every region found, no overlap


def test_explain_render_file_and_cli(model, tmp_path):
    from models import provenance
    from models.faces import FaceRequest, draw_faces
    from models.saliency.__main__ import main

    spec = RenderSpec(syndrome="williams_beuren", age=4, seed=9, size=256)
    (face,) = draw_faces(FaceRequest(spec=spec, pair=False))
    sample = face.sample
    path = face.save(tmp_path / "child.png", mark=False)
    result = explain(model, path, "integrated_gradients", baseline="counterfactual", steps=8)
    assert result.region_source == "render masks" and result.hpo_present == sample.hpo_present
    assert result.overlay.shape == (336, 336, 3) and result.attribution.contrast == "unaffected"
    assert result.warnings == ()

    folder = tmp_path / "model"
    folder.mkdir()
    save_weights(model, folder)
    model.config.save(folder)
    out = tmp_path / "overlay.png"
    assert main(["--image", str(path), "--method", "gradcam", "--model", str(folder), "--out", str(out)]) == 0
    meta = provenance.read_png_metadata(out)
    assert meta["synthetic"] == "true" and meta["source"] == "child.png"  # the file's name, never its folder
    assert (
        main(["--image", str(path), "--method", "saliency", "--model", str(tmp_path / "missing"), "--out", str(out)])
        == 2
    )
    # an image PhenoFace did not draw (here the same pixels as a JPEG, without metadata) is not called synthetic
    from PIL import Image

    photo = tmp_path / "private" / "photo.jpg"
    photo.parent.mkdir()
    Image.fromarray(sample.image).save(photo, quality=95)
    out2 = tmp_path / "overlay_photo.png"
    assert main(["--image", str(photo), "--method", "gradcam", "--model", str(folder), "--out", str(out2)]) == 0
    meta = provenance.read_png_metadata(out2)
    assert "synthetic" not in meta and "not marked synthetic" in meta["notice"]
    assert "private" not in "".join(meta.values())


def test_a_face_in_profile_is_explained_with_a_warning(model):
    from models.alignment import TURNED_HEAD, head_turn

    spec = RenderSpec(syndrome="down", age=5, sex="female", skin_tone=4, seed=0, size=256)
    frontal, profile = render(spec), render(dataclasses.replace(spec, view="profile"))
    assert head_turn(align_face(frontal.image).mesh) < 0.1 < TURNED_HEAD < head_turn(align_face(profile.image).mesh)
    result = explain(model, profile.image, "gradcam")
    assert len(result.warnings) == 1 and "frontal" in result.warnings[0]
    assert explain(model, frontal.image, "gradcam").warnings == ()
