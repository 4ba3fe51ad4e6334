"""Who is signed in, when the server runs a class (``python app.py --accounts``).

With accounts on, Gradio's sign-in page asks for a name and password (checked against the quiz
database's Argon2id hashes, `models.quiz.programme`), and every callback takes the learner's name from
the signed-in session, never from a value the page or an API caller sends. Without them (the default,
one person at their own machine) the Quiz tab asks for a name as before.
"""

from __future__ import annotations

import logging

import gradio as gr

from models import runtime
from models.quiz.programme import AccessDenied, ProgrammeStore, SetConflict
from models.quiz.store import QuizStoreError
from ui.session import Refusal

log = logging.getLogger(__name__)
_enabled = False

#: Shown above Gradio's sign-in form.
SIGN_IN_MESSAGE = (
    "PhenoFace for a class: sign in with the name and password you were given. Synthetic faces, for education only."
)


def enable(on: bool) -> None:
    """Turn accounts on (the server was started with ``--accounts``) or off."""
    global _enabled
    _enabled = bool(on)


def enabled() -> bool:
    """Whether the server runs with accounts."""
    return _enabled


def store() -> ProgrammeStore:
    """The programme store on the app's quiz database (opened per call, as the Quiz tab's store is)."""
    return ProgrammeStore(runtime.paths().db_path)


def check_password(username: str, password: str) -> bool:
    """Gradio's ``auth`` callable: True for a name and password of an account in the quiz database."""
    try:
        return store().authenticate(username, password) is not None
    except (ValueError, QuizStoreError):
        log.exception("the sign-in could not read the quiz database")
        return False


def signed_in(request: gr.Request | None) -> str | None:
    """The signed-in account's name, or None when accounts are off.

    Raises:
        Refusal: accounts are on but the request carries no signed-in name (e.g. an API call without it).
    """
    if not _enabled:
        return None
    name = getattr(request, "username", None) if request is not None else None
    if not name:
        raise Refusal("Sign in first: this server keeps results per account.")
    return str(name)


def refusal(err: Exception) -> Refusal:
    """The one-sentence message for a store error, a refused action or a conflicting edit."""
    if isinstance(err, (ValueError, AccessDenied, SetConflict, QuizStoreError)):
        return Refusal(str(err))
    raise err
