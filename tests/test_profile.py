"""Profile renderer: shapes, determinism, and features that must move the right landmarks."""

import numpy as np
import pytest

from models.phenotype.spec import RenderSpec
from models.phenotype.synthesizer import render

SIZE = 160


def _render(features=(), **kw):
    spec = dict(syndrome="unaffected", age=7, sex="female", skin_tone=4, seed=2, size=SIZE, view="profile")
    spec.update(kw)
    return render(RenderSpec(features=tuple(features), **spec))


def test_profile_outputs_are_finite_and_masks_non_empty():
    s = _render()
    assert s.image.shape == (SIZE, SIZE, 3) and s.image.dtype == np.uint8
    for name, point in s.landmarks.items():
        assert point.shape == (2,) and np.all(np.isfinite(point)), name
    for name, mask in s.masks.items():
        assert mask.shape == (SIZE, SIZE) and mask.any(), name


def test_same_spec_same_bytes():
    assert _render().image.tobytes() == _render().image.tobytes()


def test_low_set_ears_move_superaurale_down():
    base, low = _render(), _render(["HP:0000369"])
    assert low.landmarks["superaurale_r"][1] - base.landmarks["superaurale_r"][1] > 0.02 * SIZE


def test_posterior_rotation_tilts_the_ear_back():
    def tilt(s):
        top, bottom = s.landmarks["superaurale_r"], s.landmarks["subaurale_r"]
        return np.degrees(np.arctan2(bottom[0] - top[0], bottom[1] - top[1]))

    assert tilt(_render(["HP:0000358"])) - tilt(_render()) > 5


@pytest.mark.parametrize("hpo, sign", [("HP:0000347", -1), ("HP:0000303", +1)])
def test_mandible_moves_pogonion(hpo, sign):
    dx = _render([hpo]).landmarks["pogonion"][0] - _render().landmarks["pogonion"][0]
    assert sign * dx > 0.01 * SIZE


def test_depressed_bridge_and_midface_retrusion_move_the_profile_back():
    base = _render()
    assert _render(["HP:0005280"]).landmarks["nasion"][0] < base.landmarks["nasion"][0] - 0.5
    assert _render(["HP:0011800"]).landmarks["subnasale"][0] < base.landmarks["subnasale"][0] - 1


def test_open_mouth_changes_the_mouth_region():
    base, open_ = _render(), _render(["HP:0000194"])
    m = base.masks["mouth"] | open_.masks["mouth"]
    assert np.abs(base.image[m].astype(int) - open_.image[m].astype(int)).mean() > 5
