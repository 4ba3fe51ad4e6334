"""The phenotype face synthesizer: ``render(spec) -> FaceSample``.

Pipeline: validate the spec and resolve the syndrome in the catalogue; sample the child's
morphology (identity + the syndrome's features drawn at their frequencies, `sampler`); draw the
child's colours and the photograph's conditions from the identity seed (`appearance`); build the
anthropometric geometry for age and sex (`norms`) and draw the portrait (`frontal` or `profile`).
The same spec and seed give the same image bytes.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .appearance import draw_appearance
from .catalog import load_catalog
from .frontal import Frontal, render_frontal
from .morphology import FEATURES
from .sampler import Child, sample_child
from .spec import (
    ANCESTRIES,
    EYE_COLOURS,
    HAIR_COLOURS,
    MAX_AGE,
    MAX_INTENSITY,
    MAX_SIZE,
    MIN_AGE,
    MIN_SIZE,
    SEXES,
    VIEWS,
    FaceSample,
    RenderSpec,
)


def validate_spec(spec: RenderSpec) -> RenderSpec:
    """Check a spec and resolve its syndrome to the catalogue key.

    Returns:
        A copy of the spec with ``syndrome`` set to the catalogue key and ``features`` as a tuple.

    Raises:
        ValueError: with a one-line message naming the bad field (unknown syndrome, unknown or
            not rendered HPO id, age outside 0-18 years, size outside 128-512 px, intensity outside
            0-1.5, skin tone outside Monk 1-10, unknown sex, view, eye or hair colour, ancestry).
    """
    try:
        syndrome = load_catalog().get(str(spec.syndrome)).key
    except ValueError:
        raise
    if not isinstance(spec.age, (int, float)) or not MIN_AGE <= float(spec.age) <= MAX_AGE:
        raise ValueError(f"age must be between {MIN_AGE:g} and {MAX_AGE:g} years, not {spec.age!r}")
    if spec.sex not in SEXES:
        raise ValueError(f"sex must be one of {', '.join(SEXES)}, not {spec.sex!r}")
    if not isinstance(spec.skin_tone, (int, np.integer)) or not 1 <= int(spec.skin_tone) <= 10:
        raise ValueError(f"skin tone must be a Monk scale level from 1 to 10, not {spec.skin_tone!r}")
    if spec.eye_colour is not None and spec.eye_colour not in EYE_COLOURS:
        raise ValueError(f"eye colour must be one of {', '.join(EYE_COLOURS)}, not {spec.eye_colour!r}")
    if spec.hair_colour is not None and spec.hair_colour not in HAIR_COLOURS:
        raise ValueError(f"hair colour must be one of {', '.join(HAIR_COLOURS)}, not {spec.hair_colour!r}")
    if not isinstance(spec.intensity, (int, float)) or not 0.0 <= float(spec.intensity) <= MAX_INTENSITY:
        raise ValueError(f"intensity must be between 0 and {MAX_INTENSITY:g}, not {spec.intensity!r}")
    if spec.ancestry is not None and spec.ancestry not in ANCESTRIES:
        raise ValueError(f"ancestry must be one of {', '.join(ANCESTRIES)}, not {spec.ancestry!r}")
    if spec.view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {spec.view!r}")
    if not isinstance(spec.size, (int, np.integer)) or not MIN_SIZE <= int(spec.size) <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE} pixels, not {spec.size!r}")
    if not isinstance(spec.seed, (int, np.integer)) or spec.seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {spec.seed!r}")
    features = None
    if spec.features is not None:
        features = tuple(str(f).strip() for f in spec.features if str(f).strip())
        bad = [f for f in features if f not in FEATURES]
        if bad:
            catalog = load_catalog()
            named = [f for f in bad if f in catalog.term_names]
            if named:
                f = named[0]
                raise ValueError(f"{f} ({catalog.term_names[f]}) is an HPO term the renderer does not draw")
            raise ValueError(f"unknown or not rendered HPO id: {', '.join(bad)} (ids look like HP:0000316)")
        dims: dict[str, str] = {}
        for f in features:
            other = dims.setdefault(FEATURES[f].dimension, f)
            if other != f:
                raise ValueError(
                    f"{FEATURES[other].name} and {FEATURES[f].name} change the same measurement; "
                    "a child can show only one of them"
                )
    return dataclasses.replace(
        spec,
        syndrome=syndrome,
        features=features,
        age=float(spec.age),
        size=int(spec.size),
        skin_tone=int(spec.skin_tone),
        seed=int(spec.seed),
        intensity=float(spec.intensity),
    )


def render(spec: RenderSpec) -> FaceSample:
    """Render one synthetic child.

    Args:
        spec: what to draw (see `RenderSpec`).

    Returns:
        `FaceSample` with image (size, size, 3) uint8 RGB, landmarks in pixels, region masks
        (size, size) bool, and the HPO terms realised and present.

    Raises:
        ValueError: bad spec (see `validate_spec`).
    """
    spec = validate_spec(spec)
    child = _sample(spec)
    app = draw_appearance(
        spec.seed,
        spec.skin_tone,
        spec.sex,
        spec.age,
        spec.eye_colour,
        spec.hair_colour,
        child.dims["skin_hypopigmentation"],
    )
    rng = np.random.default_rng([spec.seed, 211])
    if spec.view == "frontal":
        image, landmarks, masks = render_frontal(Frontal(child.dims, spec.age, spec.sex, spec.size, app), rng)
    else:
        from .profile import render_profile

        image, landmarks, masks = render_profile(child.dims, spec.age, spec.sex, spec.size, app, rng)
    return FaceSample(
        image=image,
        landmarks=landmarks,
        masks=masks,
        hpo_realised=child.realised,
        hpo_present=child.present,
        measurements=dict(child.dims),
        # record the colours drawn from the seed, so metadata says what the image shows
        spec=dataclasses.replace(spec, eye_colour=app.eye_name, hair_colour=app.hair_name),
    )


def present_terms(spec: RenderSpec) -> tuple[str, ...]:
    """The HPO ids a child drawn from `spec` shows, without rendering it (about 0.1 ms).

    The same draw as `render`: ``present_terms(spec) == render(spec).hpo_present`` for every spec, so
    a generator conditioned on these terms can be told which features the child it draws shows.
    Feature frequencies come from the catalogue (HPO annotations, see `models.phenotype.catalog`).

    Args:
        spec: the child (syndrome, age, sex, intensity, seed and features are used).

    Returns:
        HPO ids passing their definition's threshold on this child (empty for an unaffected child).

    Raises:
        ValueError: bad spec (see `validate_spec`).
    """
    spec = validate_spec(spec)
    child = _sample(spec)
    return child.present


def child_of(spec: RenderSpec) -> Child:
    """The child's morphology (SD scores) and features for a validated `spec`: the draw `render` draws, which
    the 3D engine (`models.phenotype.engine3d`) builds in 3D."""
    return _sample(spec)


def _sample(spec: RenderSpec) -> Child:
    """The child's morphology and features for a validated `spec` (the draw `render` draws)."""
    syndrome = load_catalog().get(spec.syndrome)
    return sample_child(
        syndrome.key,
        syndrome.terms,
        seed=spec.seed,
        age=spec.age,
        sex=spec.sex,
        intensity=spec.intensity,
        features=spec.features,
    )
