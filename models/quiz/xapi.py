"""Quiz answers as xAPI statements (Experience API 1.0.3, IEEE 9274.1.1-2023), the JSON that learning record
stores and learning management systems read.

One statement per answer: the learner ``answered`` a multiple-choice interaction (``cmi.interaction`` of
type ``choice``, whose choices and correct response pattern are the question's), with the result (success,
the response, the score as the answer's credit, the confidence as an extension) and the question's
specification in the context (syndrome, age, sex, skin tone, generator, seed), so an LRS can group by
syndrome. Statement ids are UUID 5 of the quiz and position: exporting twice gives the same ids, and an
LRS keeps one copy. The actor is an account on this server's home page (the display name only, no e-mail).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from pathlib import Path

from models.quiz.results import AnswerRecord

VERB_ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
EXTENSION = "https://phenoface.example.org/xapi/extensions/"  # our extension IRIs (an IRI, never fetched)
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://phenoface.example.org/xapi/statements")


def statement(record: AnswerRecord, home_page: str = "http://127.0.0.1:7860", set_code: str | None = None) -> dict:
    """The xAPI statement of one stored answer.

    Args:
        record: an answer with its ``quiz_id`` (`models.quiz.QuizStore.answers`).
        home_page: the server's address, the home page of the learners' accounts.
        set_code: the educator's quiz set the quiz came from, if any (in the context).

    Raises:
        ValueError: an answer that was never stored (no quiz id).
    """
    if record.quiz_id is None:
        raise ValueError("only stored answers have statements (quiz_id is None)")
    activity = f"{home_page.rstrip('/')}/quiz/{record.quiz_id}/question/{record.position}"
    context = {
        "syndrome": record.syndrome, "mode": record.mode, "age_years": record.age, "sex": record.sex,
        "monk_skin_tone": record.skin_tone, "intensity": record.intensity, "generator": record.generator,
        "seed": record.seed,
    }  # fmt: skip
    if set_code is not None:
        context["quiz_set"] = set_code
    return {
        "id": str(uuid.uuid5(_NAMESPACE, f"{home_page}|{record.quiz_id}|{record.position}")),
        "actor": {
            "objectType": "Agent",
            "name": record.learner,
            "account": {"homePage": home_page, "name": record.learner},
        },
        "verb": {"id": VERB_ANSWERED, "display": {"en-GB": "answered"}},
        "object": {
            "objectType": "Activity",
            "id": activity,
            "definition": {
                "type": INTERACTION,
                "interactionType": "choice",
                "name": {"en-GB": "Name the syndrome" if record.mode == "syndrome" else "Name the features"},
                "choices": [{"id": c, "description": {"en-GB": c}} for c in record.choices],
                "correctResponsesPattern": ["[,]".join(record.correct_answer)],
            },
        },
        "result": {
            "success": bool(record.correct),
            "response": "[,]".join(record.answer),
            "score": {"scaled": round(float(record.credit), 4)},
            "extensions": {EXTENSION + "confidence": record.confidence},
        },
        "context": {"platform": "PhenoFace", "extensions": {EXTENSION + k: v for k, v in context.items()}},
        "timestamp": record.answered_at,
    }


def statements(answers: Iterable[AnswerRecord | tuple[AnswerRecord, str | None]], home_page: str) -> list[dict]:
    """Statements of many answers (bare records, or (record, set code) pairs from `class_answers`)."""
    out = []
    for item in answers:
        record, set_code = item if isinstance(item, tuple) else (item, None)
        out.append(statement(record, home_page, set_code))
    return out


def write_statements(items: list[dict], path: str | Path) -> Path:
    """Write statements as a JSON array (what an LRS's statements endpoint takes), UTF-8, atomically."""
    from models.files import write_text

    return write_text(path, json.dumps(items, indent=2, ensure_ascii=False))
