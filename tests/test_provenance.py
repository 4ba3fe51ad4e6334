"""The visible SYNTHETIC label, PNG text metadata and atomic writes (`models.provenance`)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from models import provenance


@pytest.mark.parametrize("size", [128, 256, 512])
def test_mark_is_a_small_corner_label(size):
    image = np.full((size, size, 3), 180, np.uint8)
    marked = provenance.mark_synthetic(image)
    assert marked.shape == image.shape and marked.dtype == np.uint8
    assert np.array_equal(image, np.full_like(image, 180)), "the input must not be modified"
    changed = np.any(marked != image, axis=2)
    ys, xs = np.nonzero(changed)
    # Bottom-right corner only, and small: under 5 % of the image (the 9 px text floor makes 128 px the worst).
    assert ys.min() > size * 0.85 and xs.min() > size * 0.5
    assert changed.mean() < 0.05
    # Legible: white text pixels on a box darker than the background.
    corner = marked[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    assert corner.max() > 230 and np.median(corner) < 120


def test_mark_scales_with_image_size():
    boxes = []
    for size in (128, 512):
        marked = provenance.mark_synthetic(np.full((size, size, 3), 200, np.uint8))
        ys, _ = np.nonzero(np.any(marked != 200, axis=2))
        boxes.append(ys.max() - ys.min())
    assert boxes[1] > 2 * boxes[0]


def test_mark_rejects_non_rgb_uint8():
    with pytest.raises(ValueError, match="uint8"):
        provenance.mark_synthetic(np.zeros((64, 64, 3), np.float32))
    with pytest.raises(ValueError):
        provenance.mark_synthetic(np.zeros((64, 64), np.uint8))


def test_png_metadata_round_trip(tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (128, 128, 3), dtype=np.uint8)
    spec = {"syndrome": "williams_beuren", "age": 5.0, "features": ["HP:0000316"], "name": "Café-au-lait"}
    info = provenance.png_metadata(generator="test 1.0", seed=7, spec=spec, hpo_release="2025-01-16")
    path = provenance.save_png(image, tmp_path / "face.png", info)
    meta = provenance.read_png_metadata(path)
    assert meta["synthetic"] == "true"
    assert meta["notice"] == provenance.NOTICE
    assert meta["generator"] == "test 1.0" and meta["seed"] == "7" and meta["hpo_release"] == "2025-01-16"
    assert json.loads(meta["spec"]) == spec  # non-Latin-1 text survives (stored as iTXt)
    assert "weights_sha256" not in meta  # None values are left out
    assert np.array_equal(np.asarray(Image.open(path)), image)  # lossless


def test_save_png_always_says_synthetic(tmp_path):
    path = provenance.save_png(np.zeros((128, 128, 3), np.uint8), tmp_path / "x.png", {"synthetic": "false"})
    meta = provenance.read_png_metadata(path)
    assert meta["synthetic"] == "true" and meta["notice"] == provenance.NOTICE


def test_failed_save_leaves_nothing(tmp_path, monkeypatch):
    def half_write(self, fp, *args, **kwargs):
        with open(fp, "wb") as f:
            f.write(b"\x89PNG half")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", half_write)
    with pytest.raises(OSError, match="disk full"):
        provenance.save_png(np.zeros((128, 128, 3), np.uint8), tmp_path / "face.png", {})
    assert list(tmp_path.iterdir()) == []


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = provenance.save_png(np.zeros((128, 128, 3), np.uint8), tmp_path / "face.png", {"seed": 1})
    before = path.read_bytes()
    monkeypatch.setattr(Image.Image, "save", lambda *a, **k: (_ for _ in ()).throw(OSError("boom")))
    with pytest.raises(OSError):
        provenance.save_png(np.ones((128, 128, 3), np.uint8), path, {"seed": 2})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["face.png"]


def test_save_into_missing_folder_raises(tmp_path):
    with pytest.raises(OSError):
        provenance.save_png(np.zeros((128, 128, 3), np.uint8), tmp_path / "no" / "face.png", {})
    assert list(tmp_path.iterdir()) == []
