"""Quiz questions: which child to draw, which choices to offer, and whether an answer is right.

A quiz is fully determined by its `QuizSettings` (its ``seed`` included): `make_quiz` draws the same
questions, children and choices every time, so a quiz can be repeated or audited from its seed.

Two modes:

* ``"syndrome"``: name the syndrome of the child on the face, one choice among ``n_choices``
  syndromes (the correct one and distractors chosen by phenotypic similarity,
  `models.quiz.similarity`);
* ``"features"``: name the features (HPO terms, Elements of Morphology definitions) the face shows,
  several choices among the features the child shows and features it does not show. Only the
  phenotype model knows which features a child shows, so this mode needs it.

Distractor difficulty. ``"similar"`` favours the syndromes (or features) most like the correct answer,
``"dissimilar"`` those least like it; both draw with weights ``exp(+-score / temperature)`` without
replacement, so the choice is driven by similarity but still varies from question to question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from models.checks import whole_number
from models.constants import UNAFFECTED
from models.phenotype.catalog import load_catalog
from models.phenotype.morphology import CATEGORICAL, FEATURES
from models.phenotype.sampler import sample_child
from models.phenotype.spec import SEXES
from models.quiz.similarity import feature_profile, similarity_matrix

MODES: tuple[str, ...] = ("syndrome", "features")
DIFFICULTIES: tuple[str, ...] = ("similar", "dissimilar")
GENERATORS: tuple[str, ...] = ("phenotype", "diffusion")
#: Feature intensities offered: subtle, typical, marked (exaggerated for teaching).
INTENSITIES: dict[str, float] = {"subtle": 0.5, "typical": 1.0, "marked": 1.3}
MIN_QUESTIONS, MAX_QUESTIONS = 1, 50
MIN_CHOICES, MAX_CHOICES = 2, 8
MIN_AGE, MAX_AGE = 1, 16  # years, whole
#: Softmax temperatures of the distractor draw (similarity units, 0 to 1).
SIMILAR_TEMPERATURE = 0.04
DISSIMILAR_TEMPERATURE = 0.08
#: A feature distractor must lie below this many SD in its own direction on the child (well short of
#: the 2 SD of a present feature), so a distractor never looks half-present.
DISTRACTOR_MAX_SD = 1.0
#: Identity seeds tried per feature question before another syndrome is drawn, when a child shows no feature.
FEATURE_REDRAWS = 20
#: Features a frontal portrait cannot show, never asked in feature questions: head size is measured
#: against norms (microcephaly and macrocephaly: occipitofrontal circumference, Allanson et al. 2009),
#: head shape is judged from above or in profile (brachycephaly, dolichocephaly), and ear rotation,
#: retrognathia and midface retrusion in profile (Hunter et al. 2009; Hall et al. 2009); likewise every
#: feature the morphology table marks ``profile_only``.
NOT_FRONTAL: frozenset[str] = frozenset(
    {"HP:0000252", "HP:0000256", "HP:0000248", "HP:0000268", "HP:0000358", "HP:0000278", "HP:0011800"}
) | frozenset(f for f, feature in FEATURES.items() if feature.profile_only)


@dataclass(frozen=True)
class QuizSettings:
    """What a trainee asked for.

    Attributes:
        mode: one of `MODES`.
        syndromes: catalogue keys the quiz draws children from (``"unaffected"`` allowed in
            syndrome mode: a child without a syndrome).
        n_questions: number of questions, `MIN_QUESTIONS` to `MAX_QUESTIONS`.
        n_choices: choices per question, `MIN_CHOICES` to `MAX_CHOICES` (fewer when fewer exist).
        intensity: feature intensity of the children, 0.5 subtle to 1.5 (above 1 exaggerated for teaching).
        difficulty: distractor similarity, one of `DIFFICULTIES`.
        generator: one of `GENERATORS`; ``"diffusion"`` only in syndrome mode.
        seed: the quiz's seed, a whole number >= 0; the same settings and seed give the same quiz.
    """

    mode: str = "syndrome"
    syndromes: tuple[str, ...] = ()
    n_questions: int = 10
    n_choices: int = 4
    intensity: float = 1.0
    difficulty: str = "similar"
    generator: str = "phenotype"
    seed: int = 0


@dataclass(frozen=True)
class Question:
    """One question: the child to draw, the choices and the right answer.

    Attributes:
        position: 0-based place in the quiz.
        mode: one of `MODES`.
        syndrome: catalogue key of the child drawn.
        seed: identity seed (phenotype model) or noise seed (diffusion model) of the face.
        age: age in whole years, `MIN_AGE` to `MAX_AGE`.
        sex: ``"female"`` or ``"male"``.
        skin_tone: Monk Skin Tone level, 1 to 10.
        intensity: feature intensity (phenotype model only; recorded as given for the diffusion model).
        generator: one of `GENERATORS`.
        choices: catalogue keys (syndrome mode) or rendered HPO ids (feature mode), in display order.
        correct: the right answer: one key, or every offered HPO id the child shows.
        present: HPO ids the child shows (`FaceSample.hpo_present`); empty for the diffusion model.
    """

    position: int
    mode: str
    syndrome: str
    seed: int
    age: int
    sex: str
    skin_tone: int
    intensity: float
    generator: str
    choices: tuple[str, ...]
    correct: tuple[str, ...]
    present: tuple[str, ...] = field(default=())


def default_syndromes(include_unaffected: bool = False) -> tuple[str, ...]:
    """Catalogue keys of every syndrome with drawn features, in catalogue order.

    Args:
        include_unaffected: also include ``"unaffected"`` (a child without a syndrome), first.
    """
    keys = tuple(s.key for s in load_catalog().syndromes if s.key != UNAFFECTED and feature_profile(s))
    return ((UNAFFECTED,) if include_unaffected else ()) + keys


def validate_settings(settings: QuizSettings) -> QuizSettings:
    """Check settings and normalise them (syndrome keys resolved and deduplicated, numbers typed).

    In feature mode ``"unaffected"`` is dropped (a child without a syndrome shows no feature to name).

    Returns:
        A copy with catalogue keys in catalogue order.

    Raises:
        ValueError: with one sentence naming the bad setting.
    """
    if settings.mode not in MODES:
        raise ValueError(f"The quiz mode must be one of {', '.join(MODES)}, not {settings.mode!r}.")
    if settings.difficulty not in DIFFICULTIES:
        raise ValueError(f"The distractor setting must be one of {', '.join(DIFFICULTIES)}.")
    if settings.generator not in GENERATORS:
        raise ValueError(f"The generator must be one of {', '.join(GENERATORS)}, not {settings.generator!r}.")
    if settings.mode == "features" and settings.generator != "phenotype":
        raise ValueError(
            "Feature questions need the phenotype model: the learned diffusion model draws a face from the "
            "syndrome's name alone, so it cannot tell which features a child shows."
        )
    n_questions = whole_number(settings.n_questions, "The number of questions", MIN_QUESTIONS, MAX_QUESTIONS)
    n_choices = whole_number(settings.n_choices, "The number of choices", MIN_CHOICES, MAX_CHOICES)
    seed = whole_number(settings.seed, "The quiz seed", 0, 2**31 - 1)
    try:
        intensity = float(settings.intensity)
    except (TypeError, ValueError):
        intensity = -1.0
    if not 0.1 <= intensity <= 1.5:
        raise ValueError("The feature intensity must be between 0.1 and 1.5.")
    catalog = load_catalog()
    wanted = set()
    for name in settings.syndromes:
        wanted.add(catalog.get(str(name)).key)  # ValueError names the unknown one
    if settings.mode == "features":
        wanted.discard(UNAFFECTED)
    keys = tuple(k for k in catalog.keys() if k in wanted)
    if settings.mode == "syndrome" and len(keys) < 2:
        raise ValueError("Choose at least two syndromes (or one and a child without a syndrome) to choose between.")
    if not keys:
        raise ValueError("Choose at least one syndrome.")
    return QuizSettings(
        mode=settings.mode,
        syndromes=keys,
        n_questions=n_questions,
        n_choices=n_choices,
        intensity=intensity,
        difficulty=settings.difficulty,
        generator=settings.generator,
        seed=seed,
    )


def make_quiz(settings: QuizSettings) -> list[Question]:
    """Draw every question of a quiz (deterministic in the settings and their seed).

    Syndromes are dealt in shuffled rounds, so each one of the chosen syndromes comes up about equally
    often. Each question's child (identity seed, age, sex, skin tone) and choices come from its own
    random stream, keyed by the quiz seed and its position.

    Args:
        settings: the quiz settings (validated here).

    Returns:
        ``n_questions`` `Question` objects, in order.

    Raises:
        ValueError: bad settings (see `validate_settings`), or, in feature mode, no chosen syndrome
            gives a child with a feature at this intensity.
    """
    settings = validate_settings(settings)
    deal = np.random.default_rng([settings.seed, 1])
    order: list[str] = []
    while len(order) < settings.n_questions:
        order.extend(settings.syndromes[i] for i in deal.permutation(len(settings.syndromes)))
    return [_question(settings, i, order[i]) for i in range(settings.n_questions)]


def _question(settings: QuizSettings, position: int, syndrome: str) -> Question:
    rng = np.random.default_rng([settings.seed, 2, position])
    child = dict(
        age=int(rng.integers(MIN_AGE, MAX_AGE + 1)),
        sex=SEXES[int(rng.integers(len(SEXES)))],
        skin_tone=int(rng.integers(1, 11)),
        seed=int(rng.integers(0, 2**31 - 1)),
    )
    common = dict(position=position, mode=settings.mode, intensity=settings.intensity, generator=settings.generator)
    if settings.mode == "syndrome":
        distractors = pick_distractors(syndrome, settings.syndromes, settings.n_choices - 1, settings.difficulty, rng)
        choices = tuple(rng.permutation([syndrome, *distractors]).tolist())
        present = () if settings.generator != "phenotype" else _child_features(syndrome, settings, child)[0]
        return Question(syndrome=syndrome, choices=choices, correct=(syndrome,), present=present, **child, **common)
    # feature mode: redraw the child until it shows a feature, then another syndrome if it never does
    candidates = [syndrome] + [s for s in rng.permutation(settings.syndromes).tolist() if s != syndrome]
    for key in candidates:
        for attempt in range(FEATURE_REDRAWS):
            child["seed"] = int(rng.integers(0, 2**31 - 1)) if attempt else child["seed"]
            present, realised, dims = _child_features(key, settings, child)
            askable = tuple(f for f in present if f not in NOT_FRONTAL)
            if askable:
                choices, correct = feature_choices(key, askable, realised, dims, settings, rng)
                return Question(syndrome=key, choices=choices, correct=correct, present=present, **child, **common)
    raise ValueError(
        f"At intensity {settings.intensity:g} no child of the chosen syndromes shows a feature that passes its "
        "definition; choose a higher intensity or other syndromes."
    )


def _child_features(key: str, settings: QuizSettings, child: dict) -> tuple[tuple[str, ...], tuple[str, ...], dict]:
    """The features present and realised on the child, and its morphology (as the renderer draws it)."""
    from models.faces import APP_ENGINE, features_drawn

    syndrome = load_catalog().get(key)
    drawn = sample_child(
        key,
        syndrome.terms,
        seed=child["seed"],
        age=float(child["age"]),
        sex=child["sex"],
        intensity=settings.intensity,
    )
    # only what the quiz's engine draws can be asked or credited
    shown = features_drawn(APP_ENGINE)
    if shown is None:
        return drawn.present, drawn.realised, drawn.dims
    return tuple(f for f in drawn.present if f in shown), tuple(f for f in drawn.realised if f in shown), drawn.dims


def _weighted_draw(
    items: Sequence[str], scores: Sequence[float], k: int, difficulty: str, rng: np.random.Generator
) -> list[str]:
    """Draw ``k`` items without replacement, favouring high scores (``"similar"``) or low ones."""
    if k <= 0 or not items:
        return []
    s = np.asarray(scores, dtype=np.float64)
    t = SIMILAR_TEMPERATURE if difficulty == "similar" else -DISSIMILAR_TEMPERATURE
    # Gumbel top-k on logits s / t: the same as drawing one at a time without replacement with
    # weights exp(s / t), in one step
    keys = s / t + rng.gumbel(size=len(items))
    return [items[i] for i in np.argsort(-keys, kind="stable")[: min(k, len(items))]]


def pick_distractors(
    correct: str, pool: Sequence[str], k: int, difficulty: str, rng: np.random.Generator
) -> list[str]:
    """Choose ``k`` wrong syndromes to offer beside ``correct``.

    Args:
        correct: catalogue key of the right answer.
        pool: catalogue keys the distractors may come from (``correct`` is left out).
        k: how many; fewer when the pool is smaller.
        difficulty: ``"similar"`` (the most alike, harder) or ``"dissimilar"`` (the least alike, easier).
        rng: the question's random stream.

    Returns:
        Distinct catalogue keys, most favoured first.
    """
    sim = similarity_matrix()
    others = [key for key in dict.fromkeys(pool) if key != correct]
    return _weighted_draw(others, [sim(correct, key) for key in others], k, difficulty, rng)


def feature_choices(
    syndrome: str,
    present: Sequence[str],
    realised: Sequence[str],
    dims: dict[str, float],
    settings: QuizSettings,
    rng: np.random.Generator,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The features offered in a feature question, and which of them the child shows.

    Between 1 and ``n_choices - 1`` of the present features are offered (drawn at random, so counting
    does not give the answer away; at least one offered feature is not shown). Distractors are features
    the child does not show: each candidate is scored by how plausible it is for this child, the larger
    of its frequency in the child's own syndrome and its frequency in each other chosen syndrome times
    that syndrome's similarity to the child's; then drawn like syndrome distractors. Candidates that
    change the same measurement in the same direction as a feature drawn on the child, or that the
    child's own proportions already approach (`DISTRACTOR_MAX_SD`), are left out, and so is every feature
    a frontal portrait cannot show (`NOT_FRONTAL`).

    Returns:
        ``(choices in display order, the offered features the child shows)``.
    """
    n_true = int(rng.integers(1, min(len(present), settings.n_choices - 1) + 1))
    shown = [present[i] for i in sorted(rng.choice(len(present), size=n_true, replace=False))]
    taken = {(FEATURES[f].dimension, FEATURES[f].direction) for f in realised}
    sim = similarity_matrix()
    catalog = load_catalog()
    score: dict[str, float] = {}
    for key in settings.syndromes:
        weight = 1.0 if key == syndrome else sim(syndrome, key)
        for f, freq in feature_profile(catalog.get(key)).items():
            score[f] = max(score.get(f, 0.0), weight * freq)
    candidates = []
    for f, feat in FEATURES.items():
        if f in realised or f in NOT_FRONTAL or (feat.dimension, feat.direction) in taken:
            continue
        value = dims.get(feat.dimension, 0.0)
        if feat.kind != CATEGORICAL and value * feat.direction >= DISTRACTOR_MAX_SD:
            continue
        if feat.kind == CATEGORICAL and value > 0:
            continue
        candidates.append(f)
    distractors = _weighted_draw(
        candidates, [score.get(f, 0.0) for f in candidates], settings.n_choices - n_true, settings.difficulty, rng
    )
    choices = tuple(rng.permutation([*shown, *distractors]).tolist())
    return choices, tuple(f for f in choices if f in shown)


def check_answer(question: Question, answer: str | Sequence[str] | None) -> bool:
    """Whether an answer is right.

    Args:
        question: the question.
        answer: one catalogue key (syndrome mode), or the HPO ids ticked (feature mode; right only when
            they are exactly the offered features the child shows).

    Raises:
        ValueError: no answer, or an answer that is not among the choices.
    """
    picked = [answer] if isinstance(answer, str) else list(answer or [])
    if not picked:
        raise ValueError("Choose an answer first." if question.mode == "syndrome" else "Tick at least one feature.")
    if question.mode == "syndrome" and len(picked) != 1:
        raise ValueError("Choose one syndrome.")
    unknown = [a for a in picked if a not in question.choices]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not one of this question's choices.")
    return set(picked) == set(question.correct)
