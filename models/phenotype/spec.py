"""What a render is asked for (`RenderSpec`) and what it returns (`FaceSample`).

These two dataclasses are the contract between the phenotype engine and everything that
uses it: the command line (`models.phenotype.draw`, `models.phenotype.cohort`), the app,
the classifier's preprocessing and the benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.constants import UNAFFECTED

#: Region names of `FaceSample.masks`, in a fixed order.
REGIONS: tuple[str, ...] = (
    "forehead",
    "brows",
    "eyes",  # periorbital region: palpebral fissures, lids, lashes
    "nose",
    "mouth",  # philtrum and lips
    "cheeks",
    "chin",  # chin and jaw line
    "ears",
    "hair",
)

SEXES: tuple[str, ...] = ("female", "male")
VIEWS: tuple[str, ...] = ("frontal", "profile")
EYE_COLOURS: tuple[str, ...] = ("brown", "dark-brown", "hazel", "green", "blue", "grey")
#: Ancestry of the 3D engine's head: MakeHuman's artistic targets, not anthropometric norms.
ANCESTRIES: tuple[str, ...] = ("african", "asian", "european", "mixed")
HAIR_COLOURS: tuple[str, ...] = ("black", "dark-brown", "brown", "light-brown", "blond", "red")

MIN_AGE, MAX_AGE = 0.0, 18.0  # years
MIN_SIZE, MAX_SIZE = 128, 512  # pixels
MAX_INTENSITY = 1.5


@dataclass(frozen=True)
class RenderSpec:
    """One child to draw.

    Attributes:
        syndrome: catalogue key (e.g. ``"williams_beuren"``), display name, ``OMIM:194050`` or
            ``"unaffected"``.
        age: age in years, 0 to 18.
        sex: ``"female"`` or ``"male"``.
        skin_tone: Monk Skin Tone scale level, 1 (lightest) to 10 (darkest)
            (Monk E. 2019, the Monk Skin Tone Scale, skintone.google).
        eye_colour: one of `EYE_COLOURS`, or None to draw one from the identity seed.
        hair_colour: one of `HAIR_COLOURS`, or None to draw one from the identity seed.
        seed: identity seed; the same spec and seed give the same image bytes.
        intensity: feature intensity; 0 is the same child without the syndrome, 1 typical,
            up to 1.5 marked (exaggerated for teaching).
        features: HPO ids that replace the features sampled from the syndrome's frequencies,
            or None to sample them.
        view: ``"frontal"`` or ``"profile"``.
        size: output width and height in pixels, 128 to 512.
        ancestry: one of `ANCESTRIES` for the 3D engine's head shape, or None to draw one from the seed
            (the 2.5D engine does not vary morphology with ancestry and ignores it).
        expression: show the facial expression the literature describes for the syndrome, where it
            describes one (3D engine; `models.phenotype.engine3d.EXPRESSIONS`); the same child without the
            syndrome shows it too, so that the pair differs in morphology only.
    """

    syndrome: str = UNAFFECTED
    age: float = 5.0
    sex: str = "female"
    skin_tone: int = 3
    eye_colour: str | None = None
    hair_colour: str | None = None
    seed: int = 0
    intensity: float = 1.0
    features: tuple[str, ...] | None = None
    view: str = "frontal"
    size: int = 256
    ancestry: str | None = None
    expression: bool = False


@dataclass
class FaceSample:
    """A rendered synthetic face and what it shows.

    Attributes:
        image: (H, W, 3) uint8 RGB portrait.
        landmarks: dict of named 2D landmarks, each (2,) float32 (x, y) in pixels of `image`
            (renderer's own geometry, e.g. ``"pupil_l"``, ``"endocanthion_r"``, ``"cheilion_l"``,
            ``"subnasale"``, ``"labiale_superius"``, ``"gnathion"``).
        masks: dict region name (see `REGIONS`) -> (H, W) bool mask.
        hpo_realised: HPO ids whose morphological operation was applied to this child
            (sampled from the syndrome's frequencies or given in the spec).
        hpo_present: HPO ids that pass their definition's threshold on this child
            (2 SD for continuous features; categorical ones when applied). A subset of
            `hpo_realised` for syndromic children; can be non-empty for an unaffected child
            only if the identity itself crosses a threshold (the sampler prevents this).
        measurements: the child's morphology, dimension name -> signed SD score.
        spec: the spec that produced this sample, with syndrome resolved to its catalogue key.
    """

    image: np.ndarray
    landmarks: dict[str, np.ndarray]
    masks: dict[str, np.ndarray]
    hpo_realised: tuple[str, ...]
    hpo_present: tuple[str, ...]
    measurements: dict[str, float] = field(default_factory=dict)
    spec: RenderSpec | None = None
