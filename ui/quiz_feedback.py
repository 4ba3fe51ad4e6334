"""What the Quiz tab shows after an answer: the feedback in words, the HPO features on the face, the
features that tell the right syndrome apart from the one chosen, and the classifier's saliency map;
and the words for catalogue keys and shares that the quiz's other views use too.

Pure helpers without components, called by `ui.quiz` and `ui.quiz_results`. Definitions are from
*Elements of Morphology* and HPO (`models.phenotype.morphology`), frequencies from the HPO
annotations in the catalogue, saliency from `models.saliency` via `models.quiz.faces`.
Education and research only; not for diagnosis.
"""

from __future__ import annotations

import functools
import logging

import pandas as pd

from models import provenance, runtime
from models import quiz as quiz_lib
from models.constants import UNAFFECTED
from models.phenotype.catalog import load_catalog
from models.phenotype.morphology import FEATURES
from models.quiz import faces
from ui import notice

log = logging.getLogger(__name__)

SALIENCY_METHOD = "integrated_gradients"
#: Saliency settings; None for `models.saliency.app_settings` of the method (read at call time, so that
#: importing this module loads no torch, and tests can make it cheaper).
SALIENCY_SETTINGS: dict | None = None
FEATURE_COLUMNS = ["HPO id", "Feature", "What it means"]
#: Shown under the feedback until the saliency map arrives (`ui.quiz.show_map`).
MAP_PENDING = "The classifier's saliency map for this face is being drawn; it appears here in a moment."


@functools.lru_cache(maxsize=1)
def catalog():
    """The syndrome catalogue, loaded on first use (never at import)."""
    return load_catalog()


def syndrome_name(key: str) -> str:
    """Display name of a catalogue key; children without a syndrome get a phrase of their own."""
    return "No syndrome (a child without a syndrome)" if key == UNAFFECTED else catalog().get(key).name


def person_first(key: str) -> str:
    """Person-first phrase for the child drawn from ``key``, e.g. ``"a child with Down syndrome"``."""
    return notice.UNAFFECTED if key == UNAFFECTED else notice.with_syndrome(catalog().get(key).name)


def percent(value: float | None) -> str:
    """A share in [0, 1] as a whole percentage (``0.75 -> "75%"``), None as a dash."""
    return "–" if value is None else f"{round(100 * value)}%"


def feedback_text(question: quiz_lib.Question, record: quiz_lib.AnswerRecord, face: faces.QuizFace) -> str:
    """The feedback on one answer, as Markdown: right or not, what the child has, and how the face was drawn.

    Args:
        question: the question answered.
        record: the stored answer (`models.quiz.make_record`).
        face: the face shown (its ``present`` features).

    Returns:
        Markdown paragraphs (feature questions list each feature offered: shown or not, ticked or not).
    """
    who = person_first(question.syndrome)
    omim = ", ".join(catalog().get(question.syndrome).omim)
    lines = []
    if question.mode == "syndrome":
        if record.correct:
            lines.append(f"**Right.** This is {who}{f' ({omim})' if omim else ''}.")
        else:
            chosen = syndrome_name(record.answer[0])
            lines.append(f"**Not this time.** You chose {chosen}. This is {who}{f' ({omim})' if omim else ''}.")
    else:
        picked, shown = set(record.answer), set(question.correct)
        lines.append(
            ("**Right.**" if record.correct else "**Not quite.**")
            + f" This is {who}. Of the features offered it shows {len(shown)}; you ticked "
            f"{len(picked & shown)} of them and {len(picked - shown)} it does not show. Partial credit: "
            f"{round(record.credit * len(question.choices))} of {len(question.choices)} features judged right "
            f"({record.credit:.0%})."
        )
        lines.append(
            "\n".join(
                f"- {'**shows**' if f in shown else 'does not show'}: {FEATURES[f].name} ({f})"
                + (" — you ticked it" if f in picked else "")
                for f in question.choices
            )
        )
    level = {0.5: "subtle", 1.0: "typical", 1.3: f"marked, {notice.EXAGGERATED}"}.get(question.intensity, "")
    drawn = "learned diffusion model"
    if question.generator == "phenotype":
        drawn = f"phenotype model, intensity {question.intensity:g}" + (f" ({level})" if level else "")
    lines.append(
        f"The synthetic child: {question.age} years, {question.sex}, Monk skin tone {question.skin_tone}, "
        f"{drawn}, seed {question.seed}; your confidence {record.confidence} of 5."
    )
    if question.generator != "phenotype":
        lines.append(
            "The learned diffusion model draws a face from the syndrome's name; "
            "it cannot list the features a face shows."
        )
    elif question.syndrome != UNAFFECTED and not face.present:
        lines.append(
            "At this intensity none of the features drawn passes its definition's threshold (2 SD for "
            "measurements), so the face shows them only subtly."
        )
    return "\n\n".join(lines)


def features_table(present: tuple[str, ...]) -> pd.DataFrame:
    """The HPO features on the face, with their definitions (Elements of Morphology, HPO).

    Args:
        present: HPO ids of the features the face shows; ids without a definition are left out.

    Returns:
        a table with `FEATURE_COLUMNS`, one row per feature, in the order given.
    """
    rows = [[f, FEATURES[f].name, FEATURES[f].definition] for f in present if f in FEATURES]
    return pd.DataFrame(rows, columns=FEATURE_COLUMNS)


def contrast_table(question: quiz_lib.Question, record: quiz_lib.AnswerRecord) -> pd.DataFrame:
    """Features frequent in the child's syndrome but rare in the one chosen (or the closest other choice), and back.

    Frequencies are from the HPO annotations (catalogue); "unknown" where the term is annotated without
    one, "not annotated" where the syndrome does not list it.
    """
    if question.mode != "syndrome":
        return pd.DataFrame(columns=["Points to", "Feature (HPO id)", "In this syndrome", "In the other"])
    other = record.answer[0]
    if record.correct:  # compare with the most similar choice offered instead
        sim = quiz_lib.similarity_matrix()
        other = max((c for c in question.choices if c != question.syndrome), key=lambda c: sim(question.syndrome, c))
    a, b = question.syndrome, other

    def freq(value):
        return "unknown" if value is None else ("not annotated" if value == 0 else percent(value))

    rows = [
        [syndrome_name(who), f"{c.name} ({c.hpo_id})", freq(c.frequency_a), freq(c.frequency_b)]
        for side, who in zip(quiz_lib.contrast(a, b), (a, b), strict=True)
        for c in side
    ]
    columns = ["Points to", "Feature (HPO id)", f"In {syndrome_name(a)}", f"In {syndrome_name(b)}"]
    return pd.DataFrame(rows, columns=columns)


def saliency_map(question: quiz_lib.Question, face: faces.QuizFace):
    """The classifier's saliency overlay for the right syndrome (marked SYNTHETIC) and a note, or None and why.

    Integrated Gradients (`SALIENCY_METHOD`, `SALIENCY_SETTINGS`) against the same child drawn without
    the syndrome for phenotype faces of a syndrome, else a blurred copy (`models.quiz.faces.explain_face`).

    Returns:
        ``(overlay, note)``: the overlay (336, 336, 3) uint8 and a Markdown note naming the top 3 regions; or
        ``(None, why)`` when no map can be made. Never raises: the feedback is shown without the map.
    """
    from models.saliency import app_settings

    settings = app_settings(SALIENCY_METHOD) if SALIENCY_SETTINGS is None else SALIENCY_SETTINGS
    try:
        result, baseline = faces.explain_face(runtime.classifier(), question, face, SALIENCY_METHOD, **settings)
    except ValueError as err:
        return None, f"No saliency map: {err}."
    except Exception:  # noqa: BLE001 - the map is an extra: the feedback is shown without it
        log.exception("quiz saliency failed")
        return None, "No saliency map: it could not be computed for this face."
    top = ", ".join(f"{r.region} ({percent(r.share)})" for r in result.regions[:3])
    if question.syndrome == UNAFFECTED:
        what = "no syndrome"
    else:
        what = f"{syndrome_name(question.syndrome)} rather than no syndrome"
    against = "the same child without the syndrome" if baseline == "counterfactual" else "a blurred copy of the face"
    note = (
        f"Where the classifier (trained on synthetic faces only) sees evidence for {what} "
        f"(Integrated Gradients against {against}; brighter = more). Most evidence: {top}. "
        "A saliency map shows what this model uses, not what a clinician should look for."
    )
    return provenance.mark_synthetic(result.overlay), note
