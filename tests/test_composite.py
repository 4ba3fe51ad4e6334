"""Average portraits: similarity alignment, the Procrustes mean, and the composite itself."""

from __future__ import annotations

import numpy as np
import pytest

from models.phenotype import composite

SIZE = 128  # pixels


def _rotation(deg: float) -> np.ndarray:
    a = np.deg2rad(deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def test_similarity_transform_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (12, 2))
    dst = 1.7 * src @ _rotation(20).T + np.array([5.0, -3.0])
    matrix = composite.similarity_transform(src, dst)
    np.testing.assert_allclose(matrix[:, :2], 1.7 * _rotation(20), atol=1e-9)
    np.testing.assert_allclose(matrix[:, 2], [5.0, -3.0], atol=1e-9)
    with pytest.raises(ValueError, match="one place"):
        composite.similarity_transform(np.zeros((3, 2)), dst[:3])
    with pytest.raises(ValueError, match="K >= 2"):
        composite.similarity_transform(src, dst[:5])


def test_procrustes_mean_of_similar_copies_is_the_shape_itself():
    rng = np.random.default_rng(1)
    shape = rng.uniform(20, 100, (10, 2))
    copies = np.stack([s * shape @ _rotation(d).T + t for s, d, t in [(1.0, 0, 0), (1.2, 8, 4), (0.9, -5, -6)]])
    mean = composite.procrustes_mean(copies)
    # equal to the shape up to a similarity transform, at the copies' mean centroid
    matrix = composite.similarity_transform(mean, shape)
    aligned = mean @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(aligned, shape, atol=1e-6)
    np.testing.assert_allclose(mean.mean(0), copies.mean(1).mean(0), atol=1e-9)


@pytest.fixture(scope="module")
def portraits():
    args = dict(syndrome="williams_beuren", age=6.0, sex="female", skin_tone=5, n=6, seed=2, size=SIZE)
    return composite.average_portrait(**args), composite.average_portrait(**args), args


def test_average_portrait_is_deterministic_uint8(portraits):
    first, again, _ = portraits
    assert first.shape == (SIZE, SIZE, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)


def test_average_portrait_differs_from_the_unaffected_average(portraits):
    first, _, args = portraits
    plain = composite.average_portrait(**{**args, "intensity": 0.0})
    assert plain.shape == first.shape
    assert np.abs(first.astype(int) - plain.astype(int)).mean() > 1.0


def test_average_portrait_rejects_bad_input():
    with pytest.raises(ValueError, match="number of children"):
        composite.average_portrait("down", 5.0, "female", 3, n=0, size=SIZE)
    with pytest.raises(ValueError, match="skin tone"):
        composite.average_portrait("down", 5.0, "female", 11, n=2, size=SIZE)
    with pytest.raises(ValueError, match="frame"):
        composite.average_portrait("down", 5.0, "female", 3, n=2, size=SIZE, frame="bust")


def test_portrait_frame_keeps_the_renderers_frame():
    image = composite.average_portrait("down", 5.0, "male", 7, n=2, size=SIZE, frame="portrait")
    assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.uint8


def test_one_child_averages_to_itself():
    from models.phenotype.spec import RenderSpec
    from models.phenotype.synthesizer import render

    image = composite.average_portrait("noonan", 8.0, "female", 3, n=1, seed=4, size=SIZE, frame="portrait")
    expected = render(RenderSpec(syndrome="noonan", age=8.0, sex="female", skin_tone=3, seed=4, size=SIZE)).image
    assert np.abs(image.astype(int) - expected.astype(int)).max() <= 1  # the identity warp, up to rounding
