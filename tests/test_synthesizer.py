"""The phenotype face synthesizer: contract, determinism, features and a detector check."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from models.phenotype.catalog import load_catalog
from models.phenotype.morphology import FEATURES
from models.phenotype.sampler import sample_child
from models.phenotype.spec import REGIONS, RenderSpec
from models.phenotype.synthesizer import present_terms, render, validate_spec


def _ipd(sample) -> float:
    return float(np.linalg.norm(sample.landmarks["pupil_l"] - sample.landmarks["pupil_r"]))


@pytest.mark.parametrize("view", ["frontal", "profile"])
def test_render_returns_image_landmarks_masks(view):
    s = render(RenderSpec(syndrome="down", age=4, sex="male", skin_tone=6, seed=3, size=160, view=view))
    assert s.image.shape == (160, 160, 3) and s.image.dtype == np.uint8
    assert set(s.masks) == set(REGIONS)
    for name, mask in s.masks.items():
        assert mask.shape == (160, 160) and mask.dtype == bool
        if name != "ears" or view == "profile":
            assert mask.any(), name
    for point in s.landmarks.values():
        assert point.shape == (2,) and np.all(np.isfinite(point))
    assert set(s.hpo_present) <= set(s.hpo_realised) <= set(FEATURES)
    assert s.spec.syndrome == "down"
    # a portrait, not a blank: the face region has texture and the background differs from it
    assert s.image.std() > 20


def test_same_spec_same_bytes_and_seeds_differ():
    spec = RenderSpec(syndrome="williams_beuren", age=6, sex="female", skin_tone=3, seed=11, size=128)
    a, b = render(spec), render(spec)
    assert a.image.tobytes() == b.image.tobytes()
    c = render(dataclasses.replace(spec, seed=12))
    assert np.abs(a.image.astype(int) - c.image.astype(int)).mean() > 2


def test_intensity_zero_is_the_same_child_without_features():
    spec = RenderSpec(syndrome="kabuki", age=8, sex="female", skin_tone=4, seed=5, size=128, intensity=0.0)
    s = render(spec)
    assert s.hpo_present == () and s.hpo_realised == ()
    plain = render(dataclasses.replace(spec, syndrome="unaffected", intensity=1.0))
    assert s.image.tobytes() == plain.image.tobytes()


def test_hypertelorism_widens_pupils_and_hypotelorism_narrows():
    base = RenderSpec(syndrome="unaffected", age=7, sex="male", skin_tone=5, seed=21, size=256, features=())
    plain = render(base)
    wide = render(dataclasses.replace(base, features=("HP:0000316",)))
    narrow = render(dataclasses.replace(base, features=("HP:0000601",)))
    assert _ipd(wide) > _ipd(plain) * 1.08 > _ipd(narrow) * 1.08
    assert wide.hpo_present == ("HP:0000316",)


def test_feature_toggle_changes_only_its_region():
    base = RenderSpec(syndrome="unaffected", age=9, sex="female", skin_tone=2, seed=4, size=256, features=())
    plain = render(base)
    synophrys = render(dataclasses.replace(base, features=("HP:0000664",)))
    diff = np.abs(plain.image.astype(int) - synophrys.image.astype(int)).sum(-1) > 12
    assert diff.any()
    ys, xs = np.nonzero(diff)
    pupil_y = plain.landmarks["pupil_l"][1]
    # everything that changed lies between the hairline and the eyes
    assert ys.max() < pupil_y and ys.min() > plain.landmarks["trichion"][1] - 5


@pytest.mark.parametrize(
    "field,value,words",
    [
        ("syndrome", "not-a-syndrome", "syndrome"),
        ("age", 19, "age"),
        ("age", -1, "age"),
        ("size", 64, "size"),
        ("intensity", 2.0, "intensity"),
        ("skin_tone", 0, "skin tone"),
        ("features", ("HP:9999999",), "HPO"),
        ("view", "top", "view"),
        ("sex", "x", "sex"),
    ],
)
def test_bad_spec_raises_one_line_value_error(field, value, words):
    with pytest.raises(ValueError) as err:
        validate_spec(dataclasses.replace(RenderSpec(), **{field: value}))
    assert words.lower() in str(err.value).lower() and "\n" not in str(err.value)


def test_syndrome_resolves_by_omim_id_and_name():
    assert validate_spec(RenderSpec(syndrome="OMIM:194050")).syndrome == "williams_beuren"
    assert validate_spec(RenderSpec(syndrome="unaffected")).syndrome == "unaffected"


def test_sampled_feature_rates_follow_catalogue_frequencies():
    syndrome = load_catalog().get("down")
    counts: dict[str, int] = {}
    n = 400
    for seed in range(n):
        child = sample_child(syndrome.key, syndrome.terms, seed=seed, age=6, sex="female", intensity=1.0)
        for fid in child.realised:
            counts[fid] = counts.get(fid, 0) + 1
    for term in syndrome.depicted_terms:
        if term.renders_as != term.hpo_id or term.frequency is None:
            continue
        rate = counts.get(term.hpo_id, 0) / n
        # 4 binomial SDs at n = 400 is at most 0.1; opposite features on one dimension compete
        assert abs(rate - term.frequency) < 0.12 or rate < term.frequency, (term.name, rate, term.frequency)


@pytest.mark.parametrize("syndrome", ["down", "williams_beuren", "kabuki"])
def test_present_terms_are_the_rendered_childs_features(syndrome):
    specs = [RenderSpec(syndrome=syndrome, age=2.0 + seed, sex="male", seed=seed, size=128) for seed in range(4)]
    drawn = [present_terms(spec) for spec in specs]
    assert drawn == [render(spec).hpo_present for spec in specs]
    assert any(drawn) and len(set(drawn)) > 1  # features are drawn per child, not fixed per syndrome
    assert present_terms(dataclasses.replace(specs[0], intensity=0.0)) == ()
    with pytest.raises(ValueError, match="age"):
        present_terms(dataclasses.replace(specs[0], age=30.0))


def test_unaffected_children_never_show_features():
    for seed in range(200):
        child = sample_child("unaffected", (), seed=seed, age=5, sex="male", intensity=1.0)
        assert child.present == ()


def test_mediapipe_finds_faces_in_renders():
    import mediapipe as mp

    keys = load_catalog().keys()
    found = 0
    with mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5) as det:
        for i in range(12):
            s = render(
                RenderSpec(
                    syndrome=keys[i % len(keys)],
                    age=float(i * 1.5),
                    sex=("female", "male")[i % 2],
                    skin_tone=1 + i % 10,
                    seed=100 + i,
                    size=256,
                )
            )
            found += bool(det.process(s.image).detections)
    assert found >= 11
