"""The 3D phenotype engine keeps the contract (`RenderSpec` -> `FaceSample`) and draws features the defined way."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from models.faces import PHENOTYPE_3D, FaceRequest, draw_faces
from models.phenotype.engine3d import DIMENSIONS_3D, DRAWN_3D, VIEWS_3D, average3d, render3d
from models.phenotype.morphology import FEATURES
from models.phenotype.spec import REGIONS, RenderSpec

SPEC = RenderSpec(syndrome="unaffected", age=7, sex="female", skin_tone=5, seed=3, size=192, ancestry="mixed")


@pytest.fixture(scope="module")
def frontal():
    return render3d(SPEC)


def _distance(sample, a: str, b: str) -> float:
    return float(np.linalg.norm(sample.landmarks[a] - sample.landmarks[b]))


def test_masks_are_drawn_only_when_read_and_as_an_eager_pass_draws_them(monkeypatch):
    from models.phenotype import engine3d

    passes = []
    real = engine3d.render_head
    monkeypatch.setattr(engine3d, "render_head", lambda *a, **k: passes.append(k.get("ids", False)) or real(*a, **k))
    sample = render3d(SPEC)
    assert passes == [False]  # the portrait only: Generate never reads masks
    copied = copy.deepcopy(sample)  # a quiz keeps its sample in the session's state
    head = engine3d._build(engine3d.validate_spec_3d(SPEC))
    ids = real(head.vertices, head.model.faces, head.model.face_region, "frontal", 192, head.look, head.dressing,
               ids=True)  # fmt: skip
    eager = engine3d._masks(head.model, head.dressing, ids)
    for region in REGIONS:
        assert np.array_equal(sample.masks[region], eager[region]), region
        assert np.array_equal(copied.masks[region], eager[region]), region
    assert passes == [False, True, True]  # drawn once for the sample, once for its copy, then kept
    assert dict(sample.masks).keys() == eager.keys()


def test_the_sample_keeps_the_contract(frontal):
    s = frontal
    assert s.image.shape == (192, 192, 3) and s.image.dtype == np.uint8
    assert set(s.masks) == set(REGIONS)
    assert all(m.shape == (192, 192) and m.dtype == bool for m in s.masks.values())
    for name in ("pupil_r", "pupil_l", "endocanthion_r", "exocanthion_l", "cheilion_r", "subnasale", "gnathion"):
        x, y = s.landmarks[name]
        assert 0 <= x < 192 and 0 <= y < 192, name
    # the child's right is the image's left; eyes above nose above mouth above chin
    assert s.landmarks["pupil_r"][0] < s.landmarks["pupil_l"][0]
    assert s.landmarks["exocanthion_r"][0] < s.landmarks["endocanthion_r"][0] < s.landmarks["endocanthion_l"][0]
    ys = [s.landmarks[n][1] for n in ("pupil_l", "subnasale", "stomion", "gnathion")]
    assert ys == sorted(ys)
    # the masks lie where the landmarks are
    for name, region in (("pupil_l", "eyes"), ("pronasale", "nose"), ("cheilion_r", "mouth")):
        x, y = np.round(s.landmarks[name]).astype(int)
        assert s.masks[region][y - 2 : y + 3, x - 2 : x + 3].any(), name
    hair_rows = np.where(s.masks["hair"].any(1))[0]
    assert hair_rows.min() < s.landmarks["pupil_l"][1] - 20


@pytest.mark.parametrize("age", [0.5, 8.0, 16.0])
def test_every_region_is_drawn_where_it_lies_on_the_face(age):
    # the forehead's mask was empty at every age (the brows' local change moves the whole forehead, and the
    # brows were labelled after it), the mouth missed the middle of the lips and the philtrum, and the chin
    # ran down the front of the neck
    s = render3d(dataclasses.replace(SPEC, age=age, size=256))
    rows = {r: np.where(s.masks[r])[0] for r in REGIONS}
    shown = [r for r in REGIONS if r != "ears"]  # a girl's long hair may cover her ears
    assert all(len(rows[r]) > 150 for r in shown), {r: len(v) for r, v in rows.items()}
    centre = {r: float(np.median(v)) for r, v in rows.items()}
    order = ("forehead", "brows", "eyes", "nose", "mouth", "chin")
    assert [centre[r] for r in order] == sorted(centre[r] for r in order), centre
    for name, region in (("stomion", "mouth"), ("labiale_superius", "mouth"), ("pupil_r", "eyes")):
        x, y = np.round(s.landmarks[name]).astype(int)
        assert s.masks[region][y - 1 : y + 2, x - 1 : x + 2].all(), name
    below = np.mean(rows["chin"] > s.landmarks["gnathion"][1] + 2)  # was 19-22 % at 8 and 16 years
    assert below < 0.12, below  # the chin ends at the chin, not down the neck
    assert s.spec.ancestry == "mixed" and s.hpo_realised == () and s.hpo_present == ()


def test_the_same_spec_gives_the_same_bytes_and_other_seeds_other_children(frontal):
    assert np.array_equal(render3d(SPEC).image, frontal.image)
    other = render3d(dataclasses.replace(SPEC, seed=4))
    assert np.abs(other.image.astype(int) - frontal.image.astype(int)).mean() > 3


def test_every_view_draws_the_same_child():
    images = [render3d(dataclasses.replace(SPEC, view=v, size=128)).image for v in VIEWS_3D]
    assert all(i.shape == (128, 128, 3) for i in images)
    assert np.abs(images[0].astype(int) - images[2].astype(int)).mean() > 5
    with pytest.raises(ValueError, match="view"):
        render3d(dataclasses.replace(SPEC, view="top"))
    with pytest.raises(ValueError, match="ancestry"):
        render3d(dataclasses.replace(SPEC, ancestry="martian"))


def test_only_features_with_a_3d_form_are_reported():
    s = render3d(dataclasses.replace(SPEC, syndrome="down", seed=8))
    assert s.hpo_realised, "Down syndrome draws some 3D features"
    assert all(f in DRAWN_3D for f in s.hpo_realised)
    assert all(FEATURES[f].dimension in DIMENSIONS_3D for f in DRAWN_3D)
    # eyelid coloboma, the last feature to get a 3D form (a notch of the lower lids), is drawn and reported
    coloboma = render3d(dataclasses.replace(SPEC, syndrome="treacher_collins", features=("HP:0000625",), seed=8))
    assert "HP:0000625" in coloboma.hpo_realised
    assert set(s.hpo_present) <= set(s.hpo_realised)


@pytest.mark.parametrize(
    ("hpo_id", "view", "measure", "sign"),
    [
        ("HP:0000316", "frontal", lambda s: _distance(s, "pupil_r", "pupil_l"), 1),  # hypertelorism
        ("HP:0000154", "frontal", lambda s: _distance(s, "cheilion_r", "cheilion_l"), 1),  # wide mouth
        # micrognathia in profile: the chin falls back towards the neck (the face looks to the right)
        ("HP:0000347", "profile", lambda s: s.landmarks["gnathion"][0] - s.landmarks["subnasale"][0], -1),
        # low-set ears in profile: the top of the ear drops relative to the eyes (image y grows downwards)
        ("HP:0000369", "profile", lambda s: s.landmarks["superaurale_r"][1] - s.landmarks["pupil_r"][1], 1),
    ],
)
def test_a_feature_moves_the_childs_own_landmarks_the_defined_way(hpo_id, view, measure, sign):
    for seed in (1, 2):
        spec = dataclasses.replace(SPEC, seed=seed, view=view, size=256, features=(hpo_id,), syndrome="unaffected")
        with_it, without = render3d(spec), render3d(dataclasses.replace(spec, intensity=0.0))
        assert hpo_id in with_it.hpo_realised and not without.hpo_realised
        assert sign * (measure(with_it) - measure(without)) > 1.0, (hpo_id, seed)


def test_draw_faces_pairs_the_3d_child_with_itself_without_the_syndrome():
    spec = dataclasses.replace(SPEC, syndrome="williams_beuren", ancestry=None, size=128)
    face, pair = draw_faces(FaceRequest(spec=spec, generator=PHENOTYPE_3D))
    assert not face.without and pair.without
    assert face.spec.ancestry == pair.spec.ancestry is not None  # drawn from the seed, the same for both
    assert "anny" in face.info["head_model"] and "phenotype3d" in face.info["generator"]
    assert np.abs(face.image.astype(int) - pair.image.astype(int)).mean() > 0.5


def test_the_expression_switch_smiles_where_the_literature_describes_a_smile():
    spec = dataclasses.replace(SPEC, syndrome="williams_beuren", size=256)
    neutral, smiling = render3d(spec), render3d(dataclasses.replace(spec, expression=True))
    width = [_distance(s, "cheilion_r", "cheilion_l") for s in (neutral, smiling)]
    assert width[1] > width[0] + 2  # a smile widens the mouth
    # corners rise towards the nose (image y grows downwards)
    rise = [
        s.landmarks["stomion"][1] - (s.landmarks["cheilion_r"][1] + s.landmarks["cheilion_l"][1]) / 2
        for s in (neutral, smiling)
    ]
    assert rise[1] > rise[0]
    # no expression is described for unaffected children: the switch changes nothing
    plain = dataclasses.replace(SPEC, size=128)
    assert np.array_equal(render3d(plain).image, render3d(dataclasses.replace(plain, expression=True)).image)


def test_micrognathia_recedes_the_chin_on_the_profile_silhouette():
    from benchmarks.profile_check import lower_face, read_profile

    spec = dataclasses.replace(SPEC, view="profile", size=256, features=())
    without = read_profile(render3d(spec).image)
    with_it = read_profile(render3d(dataclasses.replace(spec, features=("HP:0000347",))).image)
    assert without is not None and with_it is not None
    assert 0.4 * 256 > without.unit > 0.15 * 256  # pronasale found well below the top of the head
    assert lower_face(with_it) < lower_face(without) - 0.02


def test_the_average_portrait_is_one_sharp_face_of_the_mean_shape():
    import cv2

    spec = dataclasses.replace(SPEC, syndrome="down", size=128, ancestry=None)
    avg = average3d(spec, 4)
    blur = np.mean([render3d(dataclasses.replace(spec, seed=spec.seed + i)).image for i in range(4)], axis=0)

    def sharpness(image: np.ndarray) -> float:
        grey = cv2.cvtColor(np.round(image).astype(np.uint8), cv2.COLOR_RGB2GRAY)
        return float(cv2.Laplacian(grey, cv2.CV_64F).var())

    assert avg.shape == (128, 128, 3) and avg.dtype == np.uint8
    assert sharpness(avg) > 1.3 * sharpness(blur)  # a face, not a pixel blur of four
    assert np.array_equal(avg, average3d(spec, 4))
    without = average3d(dataclasses.replace(spec, intensity=0.0), 4)
    assert np.abs(avg.astype(int) - without.astype(int)).mean() > 0.5
    with pytest.raises(ValueError, match="number of children"):
        average3d(spec, 0)


def test_the_same_child_keeps_its_top_and_colours_as_it_grows():
    from models.phenotype.engine3d import _build

    heads = [_build(dataclasses.replace(SPEC, syndrome="down", seed=0, age=a)) for a in (1, 4, 8, 12, 16)]
    assert len({h.look.cloth for h in heads}) == 1  # the top changed with age before the dressing had its stream
    assert len({h.look.hair for h in heads[1:]}) == 1 and len({h.look.iris for h in heads}) == 1


@pytest.mark.parametrize(("seed", "age"), [(2, 6.0), (4, 12.0)])
def test_a_wide_mouths_lining_never_shows_on_the_cheeks(seed, age):
    # two children with Treacher Collins syndrome whose wide mouths (macrostomia near 4 SD, corners down) showed
    # the lining's lateral ends through the skin beyond the corners as dark red patches
    from models.phenotype.engine3d import _build, validate_spec_3d
    from models.phenotype.head_render import camera, project, render_head

    head = _build(validate_spec_3d(RenderSpec(syndrome="treacher_collins", age=age, seed=seed, size=512)))
    m = head.model
    keep = ~np.isin(m.face_region, (5, 6))  # without the lining and the tongue
    with_it = render_head(head.vertices, m.faces, m.face_region, "frontal", 512, head.look, head.dressing)
    without = render_head(head.vertices, m.faces[keep], m.face_region[keep], "frontal", 512, head.look, head.dressing)
    shows = np.abs(with_it.astype(int) - without.astype(int)).max(axis=2) > 30
    opening = np.intersect1d(np.unique(m.faces[~keep]), np.unique(m.faces[m.face_region == 1]))
    offset, _, mvp = camera(head.vertices.astype(np.float64), "frontal", 512)
    corners = project(head.vertices[opening], offset, mvp, 512)[:, 0]
    cols = np.nonzero(shows)[1]
    assert not ((cols < corners.min() - 1) | (cols > corners.max() + 1)).any()


def test_the_profile_reader_finds_an_anti_aliased_edge_to_a_fraction_of_a_pixel():
    from benchmarks.profile_check import read_profile

    # a head-like block on a grey backdrop whose front edge covers the next column by a quarter: a nasal
    # bridge moves the profile by 1-2 pixels at 256 px, so whole pixels hid much of the change
    grey, skin = np.array([200, 200, 200]), np.array([120, 90, 80])
    image = np.tile(grey, (128, 128, 1))
    image[20:110, 30:80] = skin
    image[20:110, 80] = np.round(grey + 0.25 * (skin - grey))
    profile = read_profile(image.astype(np.uint8))
    assert profile is not None
    assert abs(profile.x[60] - 79.25) < 0.02


def test_the_pairs_sheet_shows_a_child_with_features_in_every_syndrome_row():
    from benchmarks.contact_sheet import pair_child
    from models.faces import PHENOTYPE_3D, draw_face

    # Prader-Willi syndrome's row (18 on the default sheet) drew a child showing none of its features at any
    # age: "0 HPO present" beside an identical face, nothing to review
    plain = RenderSpec(syndrome="prader_willi", age=1, sex="female", skin_tone=2, seed=18, size=128)
    assert not draw_face(plain, PHENOTYPE_3D).sample.hpo_present  # the default seed's child
    chosen = pair_child("prader_willi", 18, 1, 2, 128, 0, PHENOTYPE_3D)
    assert chosen.seed != 18 and draw_face(chosen, PHENOTYPE_3D).sample.hpo_present
    assert pair_child("unaffected", 0, 1, 2, 128, 0, PHENOTYPE_3D).seed == 0  # nothing to look for


def test_a_childs_cheeks_keep_a_real_faces_chroma_at_every_monk_tone():
    # Monk 1-2's swatches, lit as metered, rendered grey-white cheeks (CIELAB chroma 10-12) and Monk 6-8's
    # orange-red ones (32-36); facial skin measures about 20-29 (head_render.SKIN_CHROMA's sources)
    import cv2

    from models.phenotype.appearance import MONK_HEX
    from models.phenotype.head_render import photographed_skin

    chroma, hue = {}, {}
    for level in (1, 2, 6, 7, 8, 10):
        sample = render3d(RenderSpec(age=8.0, sex="female", skin_tone=level, seed=1, size=128))
        cheeks = sample.image[sample.masks["cheeks"]].reshape(-1, 1, 3).astype(np.float32) / 255
        lab = cv2.cvtColor(cheeks, cv2.COLOR_RGB2Lab).reshape(-1, 3).mean(0)
        chroma[level] = float(np.hypot(lab[1], lab[2]))
        hue[level] = float(np.degrees(np.arctan2(lab[2], lab[1])))
    assert all(12 <= c <= 29 for c in chroma.values()), chroma
    assert all(35 <= h <= 75 for h in hue.values()), hue  # orange-yellow skin hues, not pink or green
    assert list(chroma.values())[0] < chroma[6] and chroma[10] < chroma[8]  # the palest and darkest least chromatic
    swatch = tuple(int(MONK_HEX[3][i : i + 2], 16) / 255 for i in (0, 2, 4))
    assert photographed_skin(swatch) == pytest.approx(swatch, abs=1e-3)  # Monk 4, already within range, unchanged


def test_an_infants_hair_is_a_fine_even_cover_not_dark_tufts_on_bare_skin():
    # 1,500 cards of 4 mm over a scalp painted at 0.6 drew dark tufts on pale skin (a 5 px local contrast of
    # 25 grey levels in the hair region at 256 px), which read as a scalp disease
    from scipy.ndimage import binary_erosion, uniform_filter

    for seed, tone in ((3, 3), (5, 1)):
        sample = render3d(RenderSpec(age=0.5, sex="male", skin_tone=tone, seed=seed, size=256))
        grey = sample.image.astype(float) @ np.array([0.2126, 0.7152, 0.0722])
        hair = binary_erosion(sample.masks["hair"], iterations=3)
        contrast = np.abs(grey - uniform_filter(grey, 5))[hair].mean()
        assert hair.sum() > 1500 and contrast < 16, contrast
        assert np.median(grey[hair]) < np.median(grey[sample.masks["forehead"]]) - 20  # hair is there, darker


def test_lips_are_rose_and_darker_than_the_cheeks():
    # the lips were the skin times (0.92, 0.62, 0.62): salmon-orange and 1-4 CIELAB lightness units under the
    # cheeks, where lips measure well under the skin around them
    import cv2

    def lab(pixels):
        pixels = pixels.reshape(-1, 1, 3).astype(np.float32) / 255
        return cv2.cvtColor(pixels, cv2.COLOR_RGB2Lab).reshape(-1, 3).mean(0)

    for tone in (1, 3, 5, 7):
        s = render3d(RenderSpec(age=8.0, sex="female", skin_tone=tone, seed=4, size=256))
        mark = s.landmarks
        centres = [(mark[lip] + mark["stomion"]) / 2 for lip in ("labiale_superius", "labiale_inferius")]
        lips = lab(np.concatenate([s.image[int(y) - 1 : int(y) + 2, int(x) - 4 : int(x) + 5] for x, y in centres]))
        cheeks = lab(s.image[s.masks["cheeks"]])
        hue = [np.degrees(np.arctan2(c[2], c[1])) for c in (lips, cheeks)]
        assert cheeks[0] - lips[0] >= 5, (tone, lips, cheeks)
        assert hue[1] - hue[0] >= 10, (tone, hue)


def test_no_child_is_drawn_with_the_pointed_ears_of_an_elf():
    # MakeHuman's ear "triangle" target below zero is its "pointed" one: a normal draw around zero gave about
    # half the children a pointed helix, plain in profile at 10-16 years
    from models.phenotype import engine3d
    from models.phenotype.head_model import HeadModel

    model = HeadModel.load()
    draws = [engine3d._identity_changes(model, np.random.default_rng([seed, 307])) for seed in range(200)]
    triangle = np.array([d["l-ear-shape-triangle"] for d in draws])
    assert (triangle >= 0).all() and triangle.max() > 0.3  # still drawn, only never pointed
    assert all(d["r-ear-shape-triangle"] == d["l-ear-shape-triangle"] for d in draws)


def test_the_profile_check_reads_ears_that_turn_back_and_sit_low():
    # the ears' region took in the skin around the ear, whose round outline hid the ear's own axis: a posteriorly
    # rotated ear turned 1 degree in it, against about 20 degrees in the head's geometry
    from benchmarks.profile_check import ear_visibility, read_ear, read_profile

    spec = RenderSpec(syndrome="unaffected", age=11.5, sex="male", skin_tone=4, seed=4, size=256, view="profile")
    ears = {}
    for features in ((), ("HP:0000358",), ("HP:0000369",)):
        face = draw_faces(FaceRequest(spec=dataclasses.replace(spec, features=features), generator=PHENOTYPE_3D,
                                      pair=False, masks=True))[0]  # fmt: skip
        assert ear_visibility(face.sample.spec) > 0.9, features  # this boy's hair leaves his ear in view
        ears[features] = read_ear(face.sample.masks, read_profile(face.unmarked))
    plain = ears[()]
    assert ears[("HP:0000358",)].tilt - plain.tilt > 8  # its top turned towards the back of the head
    assert ears[("HP:0000369",)].height < plain.height - 0.03  # lower against the eye, in L
