"""Per-child sampling: which of a syndrome's features this child shows, and how strongly.

Two children with one syndrome differ as real ones do: each depicted HPO term is drawn with its
catalogue frequency, and each realised continuous feature shifts its morphology dimension by a
magnitude drawn around 2.8 SD. The identity (the child's own proportions) is drawn from a separate
random stream keyed only by the seed, so the same seed at intensity 0 is the same child without the
syndrome, and a feature toggled on or off leaves the rest of the face unchanged.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from .morphology import CATEGORICAL, CATEGORICAL_THRESHOLD, DIMENSIONS, FEATURES, Feature

#: SD of the identity variation of each continuous dimension. Real populations have SD 1; we use
#: less and clip it so an unaffected child never crosses a 2 SD threshold by chance, which keeps
#: "the same child without the syndrome" free of dysmorphic features.
IDENTITY_SD = 0.55
IDENTITY_CLIP = 1.3
#: A realised continuous feature shifts its dimension by N(SHIFT_MEAN, SHIFT_SD), clipped.
SHIFT_MEAN, SHIFT_SD, SHIFT_MIN, SHIFT_MAX = 2.9, 0.35, 2.4, 3.6

# Age- and sex-dependent expression documented in the literature: syndrome key ->
# (dimension or "*" for all, factor(age, sex), source). Factors multiply the feature shift.
_MODULATION: dict[str, tuple[tuple[str, object, str], ...]] = {
    "fragile_x": (
        (
            "*",
            lambda age, sex: 0.6 if sex == "female" else 1.0,
            "Hunter JE et al., GeneReviews: FMR1 disorders (females with a full mutation are milder)",
        ),
        (
            "face_length",
            lambda age, sex: float(np.interp(age, [0, 10, 16], [0.4, 0.8, 1.0])),
            "GeneReviews FMR1: long face and prominent jaw become apparent after childhood",
        ),
        (
            "mandible_length",
            lambda age, sex: float(np.interp(age, [0, 10, 16], [0.3, 0.8, 1.0])),
            "GeneReviews FMR1: prominent jaw in adolescence",
        ),
        (
            "ear_length",
            lambda age, sex: float(np.interp(age, [0, 6, 12], [0.6, 0.9, 1.0])),
            "GeneReviews FMR1: large ears more evident with age",
        ),
    ),
    "sotos": (
        (
            "mandible_length",
            lambda age, sex: float(np.interp(age, [0, 6, 16], [0.3, 0.7, 1.0])),
            "Tatton-Brown K et al., GeneReviews: NSD1 Sotos syndrome (chin more prominent with age)",
        ),
        (
            "chin_pointed",
            lambda age, sex: float(np.interp(age, [0, 6, 16], [0.4, 0.8, 1.0])),
            "GeneReviews Sotos: face lengthens and chin becomes pointed with age",
        ),
    ),
    "prader_willi": (
        (
            "*",
            lambda age, sex: float(np.interp(age, [0, 2, 4], [0.6, 0.85, 1.0])),
            "Driscoll DJ et al., GeneReviews: Prader-Willi syndrome (facial features evolve in infancy)",
        ),
    ),
    "noonan": (
        (
            "*",
            lambda age, sex: float(np.interp(age, [0, 10, 18], [1.0, 1.0, 0.75])),
            "Allanson JE et al. 1985, AJMG 21:507-514: facial features of Noonan syndrome become subtler with age",
        ),
    ),
    "angelman": (
        (
            "mandible_length",
            lambda age, sex: float(np.interp(age, [0, 4, 12], [0.3, 0.7, 1.0])),
            "Dagli AI et al., GeneReviews: Angelman syndrome (prognathia develops with age)",
        ),
        (
            "mouth_width",
            lambda age, sex: float(np.interp(age, [0, 4, 10], [0.6, 0.9, 1.0])),
            "GeneReviews Angelman: wide mouth more evident with age",
        ),
    ),
    "williams_beuren": (
        (
            "lower_lip_height",
            lambda age, sex: float(np.interp(age, [0, 6, 14], [0.7, 0.9, 1.0])),
            "Morris CA, GeneReviews: Williams syndrome (full lips, features coarser with age)",
        ),
    ),
}


@dataclass
class Child:
    """One simulated child: identity, realised features and the resulting morphology.

    Attributes:
        dims: dimension -> value; continuous dimensions are SD scores, categorical ones amounts
            in [0, 1.5].
        realised: HPO ids whose operation was applied, in table order.
        present: HPO ids passing their definition's threshold on this child.
        rng_seed: the identity seed (for appearance draws in the renderer).
    """

    dims: dict[str, float]
    realised: tuple[str, ...]
    present: tuple[str, ...]
    rng_seed: int
    notes: list[str] = field(default_factory=list)


def identity_dims(seed: int) -> dict[str, float]:
    """The child's own proportions: an SD score per continuous dimension (0 for categorical).

    Args:
        seed: identity seed.

    Returns:
        dimension -> SD score in [-IDENTITY_CLIP, IDENTITY_CLIP].
    """
    rng = np.random.default_rng([seed, 11])
    values = np.clip(rng.normal(0.0, IDENTITY_SD, size=len(DIMENSIONS)), -IDENTITY_CLIP, IDENTITY_CLIP)
    return {
        name: (0.0 if kind == CATEGORICAL else float(v))
        for (name, kind), v in zip(DIMENSIONS.items(), values, strict=True)
    }


def modulation(syndrome_key: str, dimension: str, age: float, sex: str) -> float:
    """Multiplier of a feature's shift for age- and sex-dependent expression (1 if none is documented)."""
    factor = 1.0
    for dim, fn, _source in _MODULATION.get(syndrome_key, ()):
        if dim in ("*", dimension):
            factor *= fn(age, sex)
    return factor


def _draw_terms(terms, rng: np.random.Generator) -> list[str]:
    """Bernoulli draw of each depicted term at its sampling frequency; one feature per dimension."""
    chosen: dict[str, tuple[float, str]] = {}  # dimension -> (frequency, feature id)
    for term in terms:
        if not term.depicted or term.renders_as not in FEATURES:
            continue
        freq = term.sampling_frequency
        hit = rng.random() < freq
        feat = FEATURES[term.renders_as]
        if hit and (feat.dimension not in chosen or chosen[feat.dimension][0] < freq):
            # Opposite features on one dimension (both hypo- and hypertelorism annotated) cannot
            # co-occur in one child: keep the more frequent one.
            chosen[feat.dimension] = (freq, feat.hpo_id)
    return [fid for _, fid in chosen.values()]


def _is_present(feat: Feature, value: float) -> bool:
    if feat.kind == CATEGORICAL:
        return value >= CATEGORICAL_THRESHOLD
    return value * feat.direction >= feat.threshold


def sample_child(
    syndrome_key: str,
    terms,
    *,
    seed: int,
    age: float,
    sex: str,
    intensity: float,
    features: tuple[str, ...] | None = None,
) -> Child:
    """Sample one child's morphology.

    Args:
        syndrome_key: catalogue key (for age/sex modulation); ``"unaffected"`` has no terms.
        terms: the syndrome's catalogue terms (objects with ``depicted``, ``renders_as`` and
            ``sampling_frequency``).
        seed: identity seed.
        age: years.
        sex: ``"female"`` or ``"male"``.
        intensity: 0 (the same child without the syndrome) to 1.5 (marked).
        features: HPO ids (rendered features) that replace the sampled ones, or None.

    Returns:
        The `Child`.

    Raises:
        ValueError: a given feature is not rendered.
    """
    dims = identity_dims(seed)
    if features is None:
        rng = np.random.default_rng([seed, 23, zlib.crc32(syndrome_key.encode())])
        chosen = _draw_terms(terms, rng)
    else:
        unknown = [f for f in features if f not in FEATURES]
        if unknown:
            raise ValueError(f"not a rendered HPO feature: {', '.join(unknown)}")
        chosen = list(dict.fromkeys(features))
    # One magnitude per dimension from a stream keyed by the seed alone, so toggling one feature
    # leaves the others' magnitudes untouched.
    mag_rng = np.random.default_rng([seed, 37])
    magnitudes = dict(
        zip(
            DIMENSIONS,
            np.clip(mag_rng.normal(SHIFT_MEAN, SHIFT_SD, len(DIMENSIONS)), SHIFT_MIN, SHIFT_MAX),
            strict=True,
        )
    )
    realised: list[str] = []
    for fid in sorted(chosen, key=list(FEATURES).index):
        feat = FEATURES[fid]
        factor = intensity * modulation(syndrome_key, feat.dimension, age, sex)
        if factor <= 0:
            continue
        if feat.kind == CATEGORICAL:
            dims[feat.dimension] = max(dims[feat.dimension], factor)
        else:
            dims[feat.dimension] += feat.direction * float(magnitudes[feat.dimension]) * factor
        realised.append(fid)
    present = tuple(fid for fid in realised if _is_present(FEATURES[fid], dims[FEATURES[fid].dimension]))
    return Child(dims=dims, realised=tuple(realised), present=present, rng_seed=seed)
