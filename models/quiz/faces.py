"""Draw a question's face (marked SYNTHETIC, saved with provenance) and explain it with the classifier.

Each face is saved twice into the quiz's folder: ``qNN.png``, shown while the question is open, whose
metadata says what drew it but not who it shows (so the answer cannot be read from the file), and
``qNN_answer.png``, used after the answer, with the full render spec (syndrome, seed, ...). The engine's
sample (region masks, render spec) stays in the server's memory with the question, so the saliency map
after the answer needs no second drawing of the face; only the same child without the syndrome (the
counterfactual baseline) is drawn then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models import provenance
from models.constants import UNAFFECTED
from models.faces import APP_ENGINE, DIFFUSION_SAMPLING, ENGINE_MODULES, LEARNED, FaceRequest, draw_faces
from models.phenotype.catalog import load_catalog
from models.phenotype.spec import RenderSpec
from models.quiz.questions import Question

PHENOTYPE_GENERATOR = f"PhenoFace app quiz, {ENGINE_MODULES[APP_ENGINE]}"
#: Sampling of the learned diffusion generator in the quiz: the project's defaults (`models.faces`).
SAMPLING = DIFFUSION_SAMPLING


@dataclass(frozen=True)
class QuizFace:
    """A drawn question face.

    Attributes:
        shown: PNG shown with the question (SYNTHETIC mark; metadata without the answer).
        review: the same image with full provenance metadata (spec or condition), for after the answer.
        present: HPO ids the face shows (phenotype model); empty for the diffusion model.
        sample: the engine's `models.faces.FaceSample` (masks, spec) of a phenotype face, else None; kept
            in memory only, never written to the page or a file (it names the syndrome).
    """

    shown: str
    review: str
    present: tuple[str, ...]
    sample: Any = field(default=None, repr=False, compare=False)


def draw_face(question: Question, folder: str | Path, size: int, generator: Any = None, **metadata: Any) -> QuizFace:
    """Draw a question's face and save it (see the module docstring).

    Args:
        question: the question; its generator decides how the face is drawn.
        folder: an existing folder (the session's); files ``qNN.png`` and ``qNN_answer.png`` are replaced.
        size: face width and height in pixels (128 to 512).
        generator: the learned generator's pipeline (`models.runtime.generator`), needed for
            diffusion questions.
        **metadata: further PNG text for both files (e.g. the app's notice).

    Returns:
        `QuizFace`; the images are (size, size, 3) uint8 with the visible SYNTHETIC mark.

    Raises:
        ValueError: a bad spec, no generator for a diffusion question, or a sample the memorisation
            filter keeps refusing.
    """
    folder = Path(folder)
    stem = f"q{question.position + 1:02d}"
    spec = RenderSpec(
        syndrome=question.syndrome, age=float(question.age), sex=question.sex, skin_tone=question.skin_tone,
        seed=question.seed, intensity=question.intensity, size=size,
    )  # fmt: skip
    if question.generator == "phenotype":
        request = FaceRequest(
            spec=spec, generator=APP_ENGINE, pair=False, label=PHENOTYPE_GENERATOR, metadata=metadata, masks=True
        )
    else:
        if generator is None:
            raise ValueError("the learned diffusion model is needed for this question but was not given")
        request = FaceRequest(
            spec=spec, generator=LEARNED, pair=False, pipeline=generator, sampling=SAMPLING,
            metadata=metadata,
        )  # fmt: skip
    (face,) = draw_faces(request)
    image, present, full, name = face.image, face.hpo_present, face.info, face.info["generator"]
    shown = provenance.save_png(image, folder / f"{stem}.png", provenance.png_metadata(generator=name, **metadata))
    review = provenance.save_png(image, folder / f"{stem}_answer.png", full)
    return QuizFace(shown=str(shown), review=str(review), present=present, sample=face.sample)


def explain_face(model: Any, question: Question, face: QuizFace, method: str, **settings: Any):
    """The classifier's saliency map of a question's face for its correct syndrome.

    The target is the child's syndrome, contrasted with ``"unaffected"``; the baseline is the same
    child drawn without the syndrome for phenotype faces of a syndrome, else a blurred copy (the
    diffusion model has no counterfactual, and a child without a syndrome is its own).

    Args:
        model: a loaded `models.classifier.model.Classifier`.
        question: the question.
        face: its drawn face.
        method: one of `models.saliency.METHODS`.
        **settings: passed to `models.saliency.explain` (e.g. ``models.saliency.app_settings(method)``).

    Returns:
        ``(Explanation, baseline name)``; the overlay is (336, 336, 3) uint8, not yet marked.

    Raises:
        ValueError: the classifier does not know the syndrome, or no single face is found.
    """
    from models import saliency

    if question.syndrome not in model.config.classes:
        raise ValueError(f"the classifier was not trained on {load_catalog().get(question.syndrome).name}")
    baseline = "counterfactual" if question.generator == "phenotype" and question.syndrome != UNAFFECTED else "blurred"
    result = saliency.explain(
        model, face.review, method, target=question.syndrome, contrast=UNAFFECTED, baseline=baseline,
        sample=face.sample, **settings,
    )  # fmt: skip
    return result, baseline
