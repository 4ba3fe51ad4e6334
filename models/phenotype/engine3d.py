"""The phenotype engine on a 3D child: ``render3d(spec) -> FaceSample``, the same contract as `synthesizer.render`.

A child is drawn as the rule-based engine draws it (`synthesizer.child_of`: the identity's morphology in
SD scores and the syndrome's features at their HPO frequencies, `sampler`), then built in 3D: its SD
scores become anny's local changes and facial action units (`morphs3d.head_changes`), on anny's head for
its age (through anny's morphological-age mapping), sex, ancestry and body build (drawn from anny's
age- and sex-conditioned distributions); the head is dressed (hair in a style for age and sex, shoulders
in a top; `portrait3d`) and rendered on the CPU (`head_render`). Landmarks are the head's own vertices
projected into the image; region masks come from a vertex-id pass (drawn when first read), so hair and
clothing occlude them as they occlude the face.

Only features with a 3D form (`DRAWN_3D`: `morphs3d.DIMENSION_CHANGES` and `DIMENSION_ACTIONS`) are
drawn; ``hpo_realised`` and ``hpo_present`` list only those, so nothing downstream is told a child shows
what it does not. Views: frontal, three-quarter and profile of the same child. `average3d` renders the
mean 3D shape of several children once (an average portrait that is a face, not a blur).

Ancestry: MakeHuman's African, Asian and European targets are artistic blends, not anthropometric
norms; PhenoFace's SD scores are measured against mostly European-derived norms (`norms`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping

import numpy as np

from .appearance import draw_appearance
from .head_model import HeadModel, HeadParams
from .head_render import ID_HAIR, Dressing, Look, camera, project, render_head
from .morphology import FEATURES
from .morphs3d import DIMENSION_ACTIONS, DIMENSION_CHANGES, DIMENSION_FIELDS, displace, head_changes, tuck_mouth
from .portrait3d import DRESSING_DIMENSIONS, dress
from .spec import REGIONS, FaceSample, RenderSpec
from .synthesizer import child_of, validate_spec

#: Views the 3D engine draws (the 2.5D engine draws the first and last).
VIEWS_3D: tuple[str, ...] = ("frontal", "three_quarter", "profile")
#: Dimensions drawn in the look (`head_render.Look`): the iris's signs, and the skin's colour (`appearance`).
LOOK_DIMENSIONS: tuple[str, ...] = ("brushfield_spots", "stellate_iris", "iris_coloboma", "strabismus")
#: Drawn in the look too: a notch of the lower lids (`head_render.Look.lid_coloboma`).
LID_DIMENSION = "eyelid_coloboma"
#: Every morphology dimension the 3D engine draws: local changes and facial action units (`morphs3d`), its
#: own displacement fields (`morphs3d.displace`), the brows, lashes and hairline (`portrait3d`), the iris
#: and the skin's colour.
DIMENSIONS_3D: frozenset[str] = frozenset(
    {*DIMENSION_CHANGES, *DIMENSION_ACTIONS, *DIMENSION_FIELDS, *DRESSING_DIMENSIONS, *LOOK_DIMENSIONS,
     LID_DIMENSION, "skin_hypopigmentation"}
)  # fmt: skip
#: HPO features the 3D engine draws: those whose dimension has a 3D form.
DRAWN_3D: frozenset[str] = frozenset(f for f, feat in FEATURES.items() if feat.dimension in DIMENSIONS_3D)
#: Drawn when the spec names no ancestry, with these probabilities.
ANCESTRY_DRAW: dict[str, float] = {"african": 0.25, "asian": 0.25, "european": 0.25, "mixed": 0.25}


def validate_spec_3d(spec: RenderSpec) -> RenderSpec:
    """`synthesizer.validate_spec` for the 3D engine, which also draws the three-quarter view.

    Raises:
        ValueError: a bad spec, or a view not in `VIEWS_3D`.
    """
    if spec.view not in VIEWS_3D:
        raise ValueError(f"view must be one of {', '.join(VIEWS_3D)}, not {spec.view!r}")
    return dataclasses.replace(validate_spec(dataclasses.replace(spec, view="frontal")), view=spec.view)


def render3d(spec: RenderSpec) -> FaceSample:
    """Render one synthetic child in 3D.

    Args:
        spec: what to draw (`RenderSpec`); ``view`` may also be ``"three_quarter"``; ``ancestry`` None
            draws one from the seed (`ANCESTRY_DRAW`).

    Returns:
        `FaceSample`: image (size, size, 3) uint8 RGB; landmarks (2,) float32 pixels (Farkas names:
        ``pupil_l``, ``endocanthion_r``, ``cheilion_l``, ``subnasale``, ``gnathion``, ...; points the view
        hides are projected all the same); masks (size, size) bool per `spec.REGIONS` (`DeferredMasks`:
        drawn when first read); HPO terms realised and present (only those with a 3D form); measurements
        (SD scores); the spec with its colours and ancestry.

    Raises:
        ValueError: a bad spec (`synthesizer.validate_spec`) or view.
        RuntimeError: no OpenGL on this machine (`head_render`).
    """
    spec = validate_spec_3d(spec)
    head = _build(spec)
    model, v, dressing = head.model, head.vertices, head.dressing
    image = render_head(v, model.faces, model.face_region, spec.view, spec.size, head.look, dressing)
    offset, _, mvp = camera(v.astype(np.float64), spec.view, spec.size)
    points = landmarks_3d(model, v, dressing)
    xy = project(np.stack(list(points.values())), offset, mvp, spec.size)
    child = head.child
    return FaceSample(
        image=image,
        landmarks=dict(zip(points, xy, strict=True)),
        masks=DeferredMasks(
            spec,
            lambda: _masks(
                model,
                dressing,
                render_head(v, model.faces, model.face_region, spec.view, spec.size, head.look, dressing, ids=True),
            ),
        ),
        hpo_realised=tuple(f for f in child.realised if f in DRAWN_3D),
        hpo_present=tuple(f for f in child.present if f in DRAWN_3D),
        measurements=dict(child.dims),
        spec=head.spec,
    )


@dataclasses.dataclass
class _Head:
    """One child built in 3D, before rendering."""

    spec: RenderSpec  # with its colours and ancestry
    child: object  # synthesizer.child_of's child: dims, realised and present features
    model: HeadModel
    vertices: np.ndarray  # (V, 3) float32 metres
    dressing: Dressing
    look: Look


def _build(spec: RenderSpec) -> _Head:
    """A validated spec's child: morphology, identity, ancestry, body build, head, dressing and colours."""
    child = child_of(spec)
    app = draw_appearance(
        spec.seed, spec.skin_tone, spec.sex, spec.age, spec.eye_colour, spec.hair_colour,
        child.dims["skin_hypopigmentation"],
    )  # fmt: skip
    rng = np.random.default_rng([spec.seed, 307])  # the 3D identity: the same seed, the same child
    names = list(ANCESTRY_DRAW)
    drawn = names[int(rng.choice(len(names), p=list(ANCESTRY_DRAW.values())))]
    ancestry = spec.ancestry or drawn
    model = HeadModel.load()
    local, actions = head_changes(child.dims, _identity_changes(model, rng), spec.age, spec.sex)
    if spec.expression and spec.syndrome in EXPRESSIONS:
        for name, amount in EXPRESSIONS[spec.syndrome][0].items():
            actions[name] = max(actions.get(name, 0.0), amount)
    # body build: anny's draw for the age and sex, pulled halfway to its mean (its tails give faces bloated or
    # gaunt beyond what a portrait of a healthy child shows)
    body = {
        what: 0.5
        * (
            model.body_sample(what, spec.age, spec.sex, rng)
            + model.body_mean(what, model.anny_age(spec.age), spec.sex)
        )
        for what in ("weight", "muscle", "proportions")
    }
    v = displace(model, model.vertices(HeadParams(spec.age, spec.sex, ancestry, local, actions, body)), child.dims)
    v = tuck_mouth(model, v)
    # its own stream: the body draws above (Beta sampling) use more or fewer numbers at different ages, which
    # gave the same child another top and parting at each age of the age strip
    dressing, cloth = dress(model, v, spec.age, spec.sex, _dressing_rng(spec.seed), dims=child.dims)
    look = Look(
        skin=tuple(float(c) for c in app.skin),
        iris=tuple(float(c) for c in app.eye),
        hair=tuple(float(c) for c in app.hair),
        cloth=cloth,
        detail=float(np.clip(spec.age / 14, 0, 1)),
        iris_signs=iris_signs(child.dims),
        lid_coloboma=lid_coloboma(child.dims),
    )
    named = dataclasses.replace(spec, eye_colour=app.eye_name, hair_colour=app.hair_name, ancestry=ancestry)
    return _Head(named, child, model, v, dressing, look)


def iris_signs(dims) -> tuple[float, float, float, float]:
    """`Look.iris_signs` (amounts 0 to 1) from a child's morphology (dimension -> presence 0-1.5)."""
    return tuple(float(np.clip(dims.get(d, 0.0), 0.0, 1.0)) for d in LOOK_DIMENSIONS)  # type: ignore[return-value]


def lid_coloboma(dims) -> float:
    """`Look.lid_coloboma` from a child's morphology: its presence (0-1.5), drawn from 0.3 as the 2.5D engine
    draws it."""
    presence = float(dims.get(LID_DIMENSION, 0.0))
    return float(min(presence, 1.5)) if presence >= 0.3 else 0.0


def _dressing_rng(seed: int) -> np.random.Generator:
    """The child's hair, top and brows stream: the same child is dressed alike at every age and in its average."""
    return np.random.default_rng([seed, 311])


def average3d(spec: RenderSpec, n: int) -> np.ndarray:
    """The average portrait of ``n`` children as one face: their mean 3D shape, rendered once.

    Child ``i`` is `spec` with seed ``spec.seed + i`` (each with its own identity, ancestry when the spec
    names none, and the features drawn for it). Their heads share one topology, so the average is the
    mean of their vertices: a sharp face with the shape the group has in common, not a blur of pixels.
    The average is dressed, coloured and lit as the first child is (hair, top, skin, eye and hair colour);
    its brows, lashes, hairline and irises show the group's mean morphology.

    Args:
        spec: the first child (`RenderSpec`; any view the 3D engine draws).
        n: number of children, 1 or more.

    Returns:
        (size, size, 3) uint8 RGB, not marked SYNTHETIC (callers that show or save it must mark it).

    Raises:
        ValueError: a bad spec or ``n`` below 1.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"the number of children must be a whole number of at least 1, not {n!r}")
    spec = validate_spec_3d(spec)
    heads = [_build(dataclasses.replace(spec, seed=spec.seed + i)) for i in range(int(n))]
    first = heads[0]
    mean = np.mean([h.vertices for h in heads], axis=0).astype(np.float32)
    dims = {k: float(np.mean([h.child.dims.get(k, 0.0) for h in heads])) for k in first.child.dims}
    dressing, _ = dress(first.model, mean, spec.age, spec.sex, _dressing_rng(spec.seed), dims=dims)
    look = dataclasses.replace(
        first.look,
        skin=tuple(np.mean([h.look.skin for h in heads], axis=0).tolist()),
        iris_signs=iris_signs(dims),
        lid_coloboma=lid_coloboma(dims),
    )
    return render_head(mean, first.model.faces, first.model.face_region, spec.view, spec.size, look, dressing)


#: Expressions the literature describes as part of a syndrome's gestalt, as facial action units (ARKit names),
#: shown when `RenderSpec.expression` is set.
EXPRESSIONS: dict[str, tuple[dict[str, float], str]] = {
    "williams_beuren": (
        {"mouthSmileLeft": 0.7, "mouthSmileRight": 0.7, "jawOpen": 0.12},
        "a wide, friendly smile (Morris CA, Williams syndrome, GeneReviews; Strømme et al. 2002)",
    ),
    "angelman": (
        {"mouthSmileLeft": 0.8, "mouthSmileRight": 0.8, "jawOpen": 0.35},
        "a happy demeanour with frequent smiling and a wide open mouth (Williams CA et al. 2006, Angelman "
        "syndrome consensus criteria, AJMG A 140A:413-418)",
    ),
}

#: Local changes that vary between children but define no feature of the table (identity only), with the
#: SD of their draw: a child's nose, ears, chin and brows are its own.
IDENTITY_CHANGES: dict[str, float] = {
    "nose-hump-incr": 0.25, "nose-curve-convex": 0.25, "nose-greek-incr": 0.2, "nose-nostrils-width-incr": 0.25,
    "nose-septumangle-incr": 0.2, "nose-volume-incr": 0.25, "chin-cleft-incr": 0.15, "chin-bones-incr": 0.25,
    "l-ear-shape-round": 0.3, "l-ear-lobe-incr": 0.3, "l-ear-shape-triangle": 0.3, "eyebrows-angle-up": 0.3,
    "eyebrows-trans-forward": 0.2, "mouth-cupidsbow-incr": 0.3, "mouth-dimples-out": 0.2, "l-eye-bag-incr": 0.15,
    "l-eye-height2-incr": 0.25, "l-eye-eyefold-up": 0.25, "l-cheek-inner-incr": 0.25, "head-angle-out": 0.15,
    "mouth-upperlip-middle-up": 0.25, "mouth-lowerlip-middle-up": 0.25, "nose-width1-incr": 0.2,
}  # fmt: skip


#: Identity changes drawn on one side of zero only: MakeHuman's ear "triangle" target taken below zero is its
#: "pointed" one: half the children drew it below zero, and the more pointed of them had an elf's helix in profile.
ONE_SIDED: frozenset[str] = frozenset({"l-ear-shape-triangle"})


def _identity_changes(model: HeadModel, rng: np.random.Generator) -> dict[str, float]:
    """Identity-only local changes, left and right drawn together (faces are nearly symmetric)."""
    out = {}
    for name, sd in IDENTITY_CHANGES.items():
        value = float(np.clip(rng.normal(0, sd), -2.5 * sd, 2.5 * sd))
        if name in ONE_SIDED:
            value = abs(value)
        out[name] = value
        if name.startswith("l-") and "r-" + name[2:] in model.local_changes:
            out["r-" + name[2:]] = value
    return out


def landmarks_3d(model: HeadModel, v: np.ndarray, dressing: Dressing) -> dict[str, np.ndarray]:
    """Named anthropometric landmarks (Farkas 1994) of one head, as (3,) float64 points in metres.

    Found on the head's own geometry: the canthi and cheilia are the extreme points of the lid and
    mouth openings (skin vertices bordering the eye and mouth cavities), the pupils the front of each
    eye, the midline points from the midline profile (pronasale most anterior, subnasale and nasion the
    deepest points above and below it), alare and zygion the widest points of nose and face, the ear
    points the top and bottom of each ear, trichion where the hair starts on the midline.
    """
    g = _groups(model)
    v = np.asarray(v, np.float64)
    out: dict[str, np.ndarray] = {}
    for side, sign in (("r", -1), ("l", 1)):  # the child's right is the image's left (x < 0)
        lid = g["lid"][np.sign(v[g["lid"], 0]) == sign]
        eye = g["eye_front"][np.sign(v[g["eye_front"], 0]) == sign]
        out[f"pupil_{side}"] = v[eye[np.argmin(v[eye, 1])]]
        out[f"endocanthion_{side}"] = v[lid[np.argmin(np.abs(v[lid, 0]))]]
        out[f"exocanthion_{side}"] = v[lid[np.argmax(np.abs(v[lid, 0]))]]
        mouth = g["mouth_ring"][np.sign(v[g["mouth_ring"], 0]) == sign]
        out[f"cheilion_{side}"] = v[mouth[np.argmax(np.abs(v[mouth, 0]))]]
        ear = g["ear_extent"][np.sign(v[g["ear_extent"], 0]) == sign]
        out[f"superaurale_{side}"] = v[ear[np.argmax(v[ear, 2])]]
        out[f"subaurale_{side}"] = v[ear[np.argmin(v[ear, 2])]]
    mid = g["skin"][np.abs(v[g["skin"], 0]) < 0.0025]
    front = mid[v[mid, 1] < np.median(v[g["skin"], 1])]
    eye_z = float(v[g["eye_front"], 2].mean())
    stomion_z = float(v[g["mouth_ring"], 2].mean())
    out["stomion"] = np.array([0.0, v[g["mouth_ring"], 1].min(), stomion_z])
    lips = front[g["lips"][front] > 0.3]
    out["labiale_superius"] = v[lips[np.argmax(v[lips, 2])]] if len(lips) else out["stomion"]
    out["labiale_inferius"] = v[lips[np.argmin(v[lips, 2])]] if len(lips) else out["stomion"]
    ls_z = float(out["labiale_superius"][2])
    nose = front[(v[front, 2] < eye_z) & (v[front, 2] > ls_z)]
    prn = nose[np.argmin(v[nose, 1])]
    out["pronasale"] = v[prn]
    # subnasale: where the columella meets the upper lip: the deepest midline point below the tip whose surface
    # still faces down (the nose's underside), not the deepest point of the philtrum's groove
    normals = _normals(v, model.faces)
    below = nose[(v[nose, 2] < v[prn, 2]) & (normals[nose, 2] < -0.3)]
    out["subnasale"] = v[below[np.argmax(v[below, 1])]] if len(below) else v[prn]
    # nasion: the deepest midline point between the nose and the brows
    above = front[(v[front, 2] > v[prn, 2] + 0.3 * (eye_z - v[prn, 2])) & (v[front, 2] < eye_z + 0.012)]
    out["nasion"] = v[above[np.argmax(v[above, 1])]] if len(above) else v[prn]
    chin = front[(v[front, 2] < stomion_z) & (g["normal_y"][front] < -0.2)]
    out["gnathion"] = v[chin[np.argmin(v[chin, 2])]] if len(chin) else out["stomion"]
    out["vertex"] = v[g["skin"][np.argmax(v[g["skin"], 2])]]
    if dressing.scalp is not None:
        line = front[(dressing.scalp[front] > 0.2) & (dressing.scalp[front] < 0.8) & (v[front, 2] > eye_z)]
        out["trichion"] = v[line].mean(0) if len(line) else out["vertex"]
    skin_z = v[g["skin"], 2]
    # zygion: the widest point of the cheekbones' level, in front of the ears (not on the skull behind them)
    ears = np.concatenate([g["ear"], g["ear_extent"]])
    face = g["skin"][(skin_z > out["subnasale"][2]) & (skin_z < eye_z) & ~np.isin(g["skin"], ears)]
    face = face[v[face, 1] < v[ears, 1].min()]
    for side, sign in (("r", -1), ("l", 1)):
        n_side = g["alae"][np.sign(v[g["alae"], 0]) == sign]
        out[f"alare_{side}"] = v[n_side[np.argmax(np.abs(v[n_side, 0]))]]
        f_side = face[np.sign(v[face, 0]) == sign]
        out[f"zygion_{side}"] = v[f_side[np.argmax(np.abs(v[f_side, 0]))]]
    return out


def _groups(model: HeadModel) -> dict[str, np.ndarray]:
    """Vertex groups of the head model's topology (indices; the same for every child), cached on the model."""
    cached = getattr(model, "_phenoface_groups", None)
    if cached is not None:
        return cached
    f, r = model.faces, model.face_region
    regions = model.face_regions

    def verts(name: str) -> np.ndarray:
        return np.unique(f[r == regions.index(name)])

    def moved(*changes: str) -> np.ndarray:  # (V,) how far any of these local changes moves each vertex
        return np.maximum.reduce([model.change_region(c) for c in changes])

    def member(ids: np.ndarray) -> np.ndarray:
        out = np.zeros(len(model.template), bool)
        out[ids] = True
        return out

    skin = verts("skin")
    lid = np.intersect1d(skin, verts("eye_cavity"))
    mouth_ring = np.intersect1d(skin, verts("mouth_cavity"))
    ear = np.where(moved("l-ear-trans-forward", "r-ear-trans-forward") > 0.5)[0]
    lips = moved("mouth-upperlip-volume-incr", "mouth-lowerlip-volume-incr")
    nose = np.where(moved("nose-scale-horiz-incr", "nose-scale-vert-incr", "nose-flaring-incr") > 0.3)[0]
    # what flaring moves most is the alae; what scaling the ear vertically moves most, its top and bottom
    alae = np.where(moved("nose-flaring-incr") > 0.5)[0]
    ear_extent = np.where(moved("l-ear-scale-vert-incr", "r-ear-scale-vert-incr") > 0.6)[0]
    eyes = member(np.concatenate([verts("eye_front"), verts("eye_cavity"), verts("eye_back")]))
    template_normals = _normals(model.template, f)
    # regions by the template's own geometry, in units of one palpebral fissure's width (ew): what anny's local
    # changes move drew no forehead at all (the brows' change moves the whole forehead, and it won), a mouth
    # without the middle of the lips and the philtrum, and a chin that ran down the neck
    t = np.asarray(model.template, np.float64)
    x, z = np.abs(t[:, 0]), t[:, 2]
    front = member(skin) & (template_normals[:, 1] < -0.25)  # skin facing the camera of the frontal view
    eye_z = float(t[verts("eye_front"), 2].mean())
    ew = float(np.ptp(t[lid[t[lid, 0] > 0], 0]))
    outer = float(np.abs(t[lid, 0]).max())
    brows = front & (z > eye_z + 0.3 * ew) & (z < eye_z + 1.05 * ew) & (x < outer + 0.35 * ew)
    forehead = front & (z >= eye_z + 1.05 * ew) & (x < outer + 0.2 * ew)  # its scalp part is hair (`_masks`)
    mouth_z, mouth_x = float(t[mouth_ring, 2].mean()), float(np.abs(t[mouth_ring, 0]).max())
    nose_z = float(t[nose, 2].min())
    philtrum = front & (x < 0.75 * mouth_x) & (z < nose_z + 0.002) & (z > mouth_z - 0.6 * (nose_z - mouth_z))
    mouth = (
        (moved("mouth-scale-horiz-incr") > 0.3) | (lips > 0.3) | philtrum
        | member(verts("mouth_cavity")) | member(verts("tongue"))
    )  # fmt: skip
    gnathion_z = float(t[front & (x < 0.004) & (z < mouth_z), 2].min())
    chin = (
        (moved("chin-height-incr", "chin-prognathism-incr") > 0.3)
        & (template_normals[:, 2] > -0.6) & (z > gnathion_z - 0.004) & ~member(verts("neck"))
    )  # fmt: skip
    label = np.full(len(model.template), -1, np.int16)  # region index of each vertex, for the masks
    order = (  # later entries win where groups overlap
        ("forehead", forehead),
        ("cheeks", moved("l-cheek-volume-incr", "r-cheek-volume-incr") > 0.3),
        ("chin", chin),
        # the ear itself: what its change moves fully (moved over half, it took in skin in front of and behind it,
        # whose round outline hid the ear's own axis)
        ("ears", moved("l-ear-trans-forward", "r-ear-trans-forward") > 0.99),
        ("mouth", mouth),
        ("nose", member(nose)),
        ("brows", brows),
        ("eyes", (moved("l-eye-scale-incr", "r-eye-scale-incr") > 0.3) | eyes),
    )
    for name, member in order:
        label[member] = REGIONS.index(name)
    groups = {
        "skin": skin, "lid": lid, "mouth_ring": mouth_ring, "ear": ear, "eye_front": verts("eye_front"),
        "nose": nose, "alae": alae, "ear_extent": ear_extent, "lips": lips, "normal_y": template_normals[:, 1],
        "label": label,
    }  # fmt: skip
    model._phenoface_groups = groups
    return groups


def _normals(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    from .head_render import vertex_normals

    return vertex_normals(np.asarray(v, np.float64), f)


class DeferredMasks(Mapping):
    """`FaceSample.masks` of a 3D render, drawn on first use (a read-only mapping region -> (H, W) bool).

    The masks need a second, vertex-id pass of the renderer (a quarter of a portrait's GL time), and only
    saliency reads them: the Generate tab and the cohorts never do. Copied or sent to another process
    before they are drawn, they are drawn there from the spec (`masks3d`).

    Args:
        spec: the spec the sample was rendered from.
        draw: returns the masks; None for `masks3d` of ``spec``. Called once, on the first read.
    """

    def __init__(self, spec: RenderSpec, draw: Callable[[], dict[str, np.ndarray]] | None = None) -> None:
        self._spec = spec
        self._draw = draw
        self._masks: dict[str, np.ndarray] | None = None

    def _drawn(self) -> dict[str, np.ndarray]:
        if self._masks is None:
            self._masks = self._draw() if self._draw is not None else masks3d(self._spec)
            self._draw = None
        return self._masks

    def __getitem__(self, region: str) -> np.ndarray:
        return self._drawn()[region]

    def __iter__(self) -> Iterator[str]:
        return iter(self._drawn())

    def __len__(self) -> int:
        return len(self._drawn())

    def __reduce__(self):
        # pickle and deepcopy: drawn masks as they are, else the spec (a closure over the head cannot travel)
        return (dict, (self._masks,)) if self._masks is not None else (DeferredMasks, (self._spec,))


def masks3d(spec: RenderSpec) -> dict[str, np.ndarray]:
    """The region masks of `render3d(spec)`, without its portrait.

    Returns:
        region name (`REGIONS`) -> (size, size) bool.

    Raises:
        ValueError: a bad spec or view.
    """
    spec = validate_spec_3d(spec)
    head = _build(spec)
    model = head.model
    ids = render_head(
        head.vertices, model.faces, model.face_region, spec.view, spec.size, head.look, head.dressing, ids=True
    )
    return _masks(model, head.dressing, ids)


def _masks(model: HeadModel, dressing: Dressing, ids: np.ndarray) -> dict[str, np.ndarray]:
    """Region masks (size, size) bool from the vertex-id image: each visible vertex's region; hair where
    hair cards or the painted scalp show."""
    label = _groups(model)["label"]
    visible = ids >= 0
    per_pixel = np.full(ids.shape, -1, np.int16)
    per_pixel[visible] = label[ids[visible]]
    masks = {name: per_pixel == i for i, name in enumerate(REGIONS)}
    hair = ids == ID_HAIR
    if dressing.scalp is not None:
        hair |= visible & (dressing.scalp[np.where(visible, ids, 0)] > 0.5)
    masks["hair"] = hair
    for name in REGIONS:
        if name != "hair":
            masks[name] &= ~hair
    return masks
