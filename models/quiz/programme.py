"""A training programme on one PhenoFace server: accounts, classes, educator quiz sets, class results.

An educator sets a quiz for a class (a residency or genetic-counselling programme), the learners take it,
the educator sees who struggles with which syndromes (Waikel et al. 2024, JAMA Netw Open 7:e2354421, had
residents classify images after different teaching methods and compared sensitivity and confidence per
method: what a pre- and post-test pair of sets makes possible here).

- Accounts: a learner or an educator signs in with a name and a password, hashed with Argon2id
  (argon2-cffi; RFC 9106); nothing personal beyond the display name and the answers is stored. A
  learner sees only their own history; an educator sees the classes they teach.
- Classes: an educator creates one and shares its short code; learners join with it.
- Quiz sets: an educator composes a `QuizSettings` (syndromes, mode, number of questions, choices,
  difficulty, generator and a fixed seed, so that every learner sees the same faces), marks it as
  practice, pre-test or post-test, and shares it by a short code. Edits are versioned: an educator
  editing a set another has changed meanwhile gets a `SetConflict`, never a silent overwrite.
- A learner can export their data (JSON) and delete it.

Everything goes through `QuizStore` (a SQLite file or a PostgreSQL server).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from models.quiz.questions import QuizSettings, validate_settings
from models.quiz.results import now_utc, record_from_row
from models.quiz.store import (
    ANSWERS,
    CLASS_MEMBERS,
    CLASSES,
    LEARNERS,
    QUIZ_SETS,
    QUIZZES,
    QuizStore,
    clean_name,
    tidy_text,
)

ROLES = ("learner", "educator")
PURPOSES = ("practice", "pre-test", "post-test")
MIN_PASSWORD = 8  # characters (NIST SP 800-63B's minimum for a chosen secret)
MAX_PASSWORD = 256
MAX_TITLE = 80
#: Short codes: six characters a person can read aloud and type (no 0/O, 1/I/L), about 10^9 codes.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6

_HASHER = PasswordHasher()  # Argon2id with argon2-cffi's defaults (RFC 9106's second recommendation)


class AccessDenied(Exception):
    """The acting account may not do this (wrong role, or not the owner); the message says why."""


class SetConflict(RuntimeError):
    """The quiz set changed since the editor read it (another educator saved first)."""


@dataclass(frozen=True)
class Account:
    """A signed-in person: ``name`` (as stored) and ``role`` (one of `ROLES`)."""

    name: str
    role: str


@dataclass(frozen=True)
class QuizSet:
    """An educator's quiz, shared by its code.

    Attributes:
        code: the short code learners type. title: its name. purpose: one of `PURPOSES`.
        educator: the author's name. settings: what every learner gets (same seed, same faces).
        version: increases with every saved edit (pass it back to `ProgrammeStore.update_set`).
    """

    code: str
    title: str
    purpose: str
    educator: str
    settings: QuizSettings
    version: int


def clean_title(title: str | None) -> str:
    """A set or class title, spaces tidied.

    Raises:
        ValueError: empty, longer than `MAX_TITLE`, or holding control characters.
    """
    return tidy_text(
        title, MAX_TITLE, "title", "Give it a title.", "The title holds characters that cannot be stored."
    )


def clean_code(code: str | None) -> str:
    """A short code as typed (spaces and case forgiven).

    Raises:
        ValueError: not `CODE_LENGTH` characters of `CODE_ALPHABET`.
    """
    text = "".join(str(code or "").split()).upper()
    if len(text) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in text):
        raise ValueError(f"A code is {CODE_LENGTH} letters and digits, as your educator gave it.")
    return text


def _check_password(password: str | None) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"Choose a password of {MIN_PASSWORD} to {MAX_PASSWORD} characters.")
    return password


class ProgrammeStore(QuizStore):
    """`QuizStore` with accounts, classes and educator quiz sets (same database, same arguments)."""

    # accounts

    def create_account(self, name: str, password: str, role: str = "learner") -> Account:
        """Register a learner or an educator.

        Raises:
            ValueError: a bad name, password or role, or a name already taken (ignoring case).
            QuizStoreError: the database cannot be written.
        """
        name = clean_name(name)
        if role not in ROLES:
            raise ValueError(f"The role must be one of {', '.join(ROLES)}.")
        digest = _HASHER.hash(_check_password(password))
        with self._transaction() as con:
            if _row(con, name) is not None:
                raise ValueError(f"The name {name!r} is taken; choose another.")
            con.execute(LEARNERS.insert().values(name=name, created_at=now_utc(), password_hash=digest, role=role))
        return Account(name, role)

    def authenticate(self, name: str, password: str) -> Account | None:
        """The account for a name and password, or None (unknown name, wrong password, or a name-only learner).

        Raises:
            QuizStoreError: the database cannot be read.
        """
        try:
            name = clean_name(name)
        except ValueError:
            return None
        with self._transaction() as con:
            row = _row(con, name)
        if row is None or row.password_hash is None or not isinstance(password, str):
            _HASHER.hash("spend the same time on an unknown name")  # no timing hint that a name exists
            return None
        try:
            _HASHER.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if _HASHER.check_needs_rehash(row.password_hash):
            with self._transaction() as con:
                con.execute(
                    LEARNERS.update().where(LEARNERS.c.id == row.id).values(password_hash=_HASHER.hash(password))
                )
        return Account(row.name, row.role)

    def account(self, name: str) -> Account | None:
        """The account of a signed-in name (from Gradio's sign-in), or None for a name without one."""
        with self._transaction() as con:
            row = _row(con, clean_name(name))
        return Account(row.name, row.role) if row is not None and row.password_hash is not None else None

    # classes

    def create_class(self, educator: str, title: str) -> str:
        """A new class taught by `educator`; returns its short code.

        Raises:
            AccessDenied: not an educator. ValueError: a bad title. QuizStoreError: the database fails.
        """
        title = clean_title(title)
        with self._transaction() as con:
            owner = _require(con, educator, "educator")
            code = _new_code(con, CLASSES)
            con.execute(CLASSES.insert().values(code=code, name=title, educator_id=owner.id, created_at=now_utc()))
        return code

    def join_class(self, learner: str, code: str) -> str:
        """Add a signed-in learner to the class with this code; returns the class's title.

        Raises:
            AccessDenied: no account. ValueError: a bad or unknown code. QuizStoreError: the database fails.
        """
        code = clean_code(code)
        with self._transaction() as con:
            member = _require(con, learner, None)
            found = con.execute(sa.select(CLASSES.c.id, CLASSES.c.name).where(CLASSES.c.code == code)).first()
            if found is None:
                raise ValueError("No class has this code; check it with your educator.")
            joined = con.execute(
                sa.select(CLASS_MEMBERS.c.class_id).where(
                    CLASS_MEMBERS.c.class_id == found.id, CLASS_MEMBERS.c.learner_id == member.id
                )
            ).first()
            if joined is None:
                con.execute(
                    CLASS_MEMBERS.insert().values(class_id=found.id, learner_id=member.id, joined_at=now_utc())
                )
        return found.name

    # quiz sets

    def create_set(self, educator: str, title: str, settings: QuizSettings, purpose: str = "practice") -> QuizSet:
        """Store an educator's quiz set; its code is what learners type.

        Raises:
            AccessDenied: not an educator. ValueError: bad settings, title or purpose.
            QuizStoreError: the database cannot be written.
        """
        settings, title = validate_settings(settings), clean_title(title)
        if purpose not in PURPOSES:
            raise ValueError(f"The purpose must be one of {', '.join(PURPOSES)}.")
        now = now_utc()
        with self._transaction() as con:
            owner = _require(con, educator, "educator")
            code = _new_code(con, QUIZ_SETS)
            con.execute(
                QUIZ_SETS.insert().values(
                    code=code,
                    title=title,
                    purpose=purpose,
                    educator_id=owner.id,
                    settings=_dump(settings),
                    version=1,
                    created_at=now,
                    updated_at=now,
                )  # fmt: skip
            )
        return QuizSet(code, title, purpose, owner.name, settings, 1)

    def get_set(self, code: str) -> QuizSet:
        """The quiz set with this code.

        Raises:
            ValueError: a bad or unknown code. QuizStoreError: the database cannot be read.
        """
        code = clean_code(code)
        with self._transaction() as con:
            row = con.execute(
                sa.select(QUIZ_SETS, LEARNERS.c.name.label("educator"))
                .join(LEARNERS, LEARNERS.c.id == QUIZ_SETS.c.educator_id)
                .where(QUIZ_SETS.c.code == code)
            ).first()
        if row is None:
            raise ValueError("No quiz set has this code; check it with your educator.")
        return QuizSet(row.code, row.title, row.purpose, row.educator, _load(row.settings), row.version)

    def update_set(
        self, educator: str, code: str, version: int, *, title: str | None = None, settings: QuizSettings | None = None
    ) -> QuizSet:
        """Save an edit of a set by its author, if nobody saved another since `version` was read.

        Raises:
            AccessDenied: not the set's author. SetConflict: the set changed since. ValueError: bad values.
            QuizStoreError: the database cannot be written.
        """
        current = self.get_set(code)
        title = clean_title(title) if title is not None else current.title
        settings = validate_settings(settings) if settings is not None else current.settings
        with self._transaction() as con:
            owner = _require(con, educator, "educator")
            if clean_name(current.educator).lower() != owner.name.lower():
                raise AccessDenied("Only the educator who wrote a quiz set can change it.")
            saved = con.execute(
                QUIZ_SETS.update()
                .where(QUIZ_SETS.c.code == current.code, QUIZ_SETS.c.version == int(version))
                .values(title=title, settings=_dump(settings), version=int(version) + 1, updated_at=now_utc())
            ).rowcount
            if saved != 1:
                raise SetConflict("Someone saved this quiz set after you opened it; open it again and redo the edit.")
        return QuizSet(current.code, title, current.purpose, current.educator, settings, int(version) + 1)

    def start_set_quiz(self, learner: str, code: str) -> tuple[int, QuizSet]:
        """A signed-in learner starts an educator's quiz set: the quiz id and the set (its settings).

        Raises:
            AccessDenied: no account. ValueError: a bad or unknown code. QuizStoreError: the database fails.
        """
        quiz_set = self.get_set(code)
        with self._transaction() as con:
            _require(con, learner, None)
            set_id = con.execute(sa.select(QUIZ_SETS.c.id).where(QUIZ_SETS.c.code == quiz_set.code)).scalar_one()
        return self.start_quiz(learner, quiz_set.settings, signed_in=True, set_id=set_id), quiz_set

    # results

    def class_answers(
        self, educator: str, class_code: str | None = None, set_code: str | None = None, learner: str | None = None
    ):
        """Answers to the educator's own quiz sets by the learners in the educator's classes (one class, or all),
        optionally of one set or one learner (name matched ignoring case). A learner's free practice, and their
        answers to other educators' sets, stay theirs.

        Returns:
            list of (`AnswerRecord`, set code or None), in learner, quiz and position order.

        Raises:
            AccessDenied: not an educator, or not this class's educator. ValueError: a bad code.
            QuizStoreError: the database cannot be read.
        """
        with self._transaction() as con:
            owner = _require(con, educator, "educator")
            classes = sa.select(CLASSES.c.id).where(CLASSES.c.educator_id == owner.id)
            if class_code is not None:
                code = _owned(con, CLASSES, class_code, owner.id, "You can see the results of your own classes only.")
                classes = classes.where(CLASSES.c.code == code)
            members = sa.select(CLASS_MEMBERS.c.learner_id).where(CLASS_MEMBERS.c.class_id.in_(classes))
            query = (
                sa.select(*ANSWERS.columns, LEARNERS.c.name.label("learner"), QUIZ_SETS.c.code.label("set_code"))
                .select_from(
                    ANSWERS.join(QUIZZES, QUIZZES.c.id == ANSWERS.c.quiz_id)
                    .join(LEARNERS, LEARNERS.c.id == QUIZZES.c.learner_id)
                    .outerjoin(QUIZ_SETS, QUIZ_SETS.c.id == QUIZZES.c.set_id)
                )
                .where(QUIZZES.c.learner_id.in_(members), QUIZ_SETS.c.educator_id == owner.id)
                .order_by(LEARNERS.c.name, ANSWERS.c.quiz_id, ANSWERS.c.position)
            )
            if set_code is not None:
                code = _owned(
                    con, QUIZ_SETS, set_code, owner.id, "You can see the results of your own quiz sets only."
                )
                query = query.where(QUIZ_SETS.c.code == code)
            if learner is not None:
                query = query.where(sa.func.lower(LEARNERS.c.name) == clean_name(learner).lower())
            rows = con.execute(query).mappings().all()
        return [(record_from_row(row), row["set_code"]) for row in rows]

    # a learner's own data

    def export_learner(self, name: str, password: str) -> dict:
        """Everything stored about a learner, as JSON-ready data (their right of access).

        Raises:
            AccessDenied: wrong name or password. QuizStoreError: the database cannot be read.
        """
        account = self.authenticate(name, password)
        if account is None:
            raise AccessDenied("The password is wrong.")
        answers = self.answers(learner=account.name, signed_in=True)
        with self._transaction() as con:
            row = _row(con, account.name)
            classes = con.execute(
                sa.select(CLASSES.c.name, CLASS_MEMBERS.c.joined_at)
                .join(CLASS_MEMBERS, CLASS_MEMBERS.c.class_id == CLASSES.c.id)
                .where(CLASS_MEMBERS.c.learner_id == row.id)
            ).all()
        return {
            "name": account.name,
            "role": account.role,
            "created_at": row.created_at,
            "classes": [{"name": c.name, "joined_at": c.joined_at} for c in classes],
            "answers": [asdict(a) for a in answers],
        }

    def delete_learner(self, name: str, password: str) -> int:
        """Delete an account with its answers, quizzes and class memberships; returns the answers deleted. An
        educator's classes and quiz sets go too: their learners keep their own answers (no longer linked to
        the set).

        Raises:
            AccessDenied: wrong name or password.
            QuizStoreError: the database cannot be written.
        """
        account = self.authenticate(name, password)
        if account is None:
            raise AccessDenied("The password is wrong.")
        with self._transaction() as con:
            row = _row(con, account.name)
            classes = sa.select(CLASSES.c.id).where(CLASSES.c.educator_id == row.id)
            con.execute(CLASS_MEMBERS.delete().where(CLASS_MEMBERS.c.class_id.in_(classes)))
            con.execute(CLASSES.delete().where(CLASSES.c.educator_id == row.id))
            sets = sa.select(QUIZ_SETS.c.id).where(QUIZ_SETS.c.educator_id == row.id)
            con.execute(QUIZZES.update().where(QUIZZES.c.set_id.in_(sets)).values(set_id=None))
            con.execute(QUIZ_SETS.delete().where(QUIZ_SETS.c.educator_id == row.id))
            quizzes = sa.select(QUIZZES.c.id).where(QUIZZES.c.learner_id == row.id)
            deleted = con.execute(ANSWERS.delete().where(ANSWERS.c.quiz_id.in_(quizzes))).rowcount
            con.execute(QUIZZES.delete().where(QUIZZES.c.learner_id == row.id))
            con.execute(CLASS_MEMBERS.delete().where(CLASS_MEMBERS.c.learner_id == row.id))
            con.execute(LEARNERS.delete().where(LEARNERS.c.id == row.id))
        return int(deleted)


def _row(con, name: str):
    return con.execute(
        sa.select(
            LEARNERS.c.id, LEARNERS.c.name, LEARNERS.c.password_hash, LEARNERS.c.role, LEARNERS.c.created_at
        ).where(sa.func.lower(LEARNERS.c.name) == name.lower())
    ).first()


def _require(con, name: str, role: str | None):
    """The account row of a signed-in name, of `role` (any role when None).

    Raises:
        AccessDenied: no account by that name, or another role.
    """
    row = _row(con, clean_name(name))
    if row is None or row.password_hash is None:
        raise AccessDenied(f"{clean_name(name)!r} has no account on this server; sign in with one, or ask whoever "
                           "runs the server to add it.")  # fmt: skip
    if role is not None and row.role != role:
        raise AccessDenied(f"Only an {role} can do this." if role[0] in "aeiou" else f"Only a {role} can do this.")
    return row


def _owned(con, table: sa.Table, code: str | None, owner_id: int, refusal: str) -> str:
    """A class or set code (checked) of the educator `owner_id`.

    Raises:
        ValueError: a malformed code. AccessDenied: no such code, or another educator's (one message for both,
            so that a code's existence is not revealed).
    """
    code = clean_code(code)
    found = con.execute(sa.select(table.c.educator_id).where(table.c.code == code)).first()
    if found is None or found.educator_id != owner_id:
        raise AccessDenied(refusal)
    return code


def _new_code(con, table: sa.Table) -> str:
    for _ in range(20):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if con.execute(sa.select(table.c.id).where(table.c.code == code)).first() is None:
            return code
    raise RuntimeError("no free code after 20 tries")  # about 10^9 codes: unreachable in practice


def _dump(settings: QuizSettings) -> str:
    return json.dumps(asdict(settings), sort_keys=True)


def _load(text: str) -> QuizSettings:
    data = json.loads(text)
    data["syndromes"] = tuple(data["syndromes"])
    return QuizSettings(**data)


def export_json(data: dict, path: str | Path) -> Path:
    """Write `ProgrammeStore.export_learner`'s data as UTF-8 JSON, atomically."""
    from models.files import write_text

    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False))


def main(argv: list[str] | None = None) -> int:
    """``python -m models.quiz.programme``: run a class from the server's shell (accounts, classes, quiz
    sets, the dashboard). Learners take quizzes in the app; this is for whoever runs the server."""
    import argparse
    import getpass
    import sys

    p = argparse.ArgumentParser(
        prog="python -m models.quiz.programme",
        description="Accounts, classes, educator quiz sets and class dashboards of a PhenoFace server. "
        "Education only; the faces are synthetic.",
    )
    p.add_argument("--db", required=True, help="the app's quiz database: a SQLite file or a postgresql+psycopg URL")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("add-account", help="register a learner or an educator (the password is asked for)")
    a.add_argument("name", help="display name, at most 60 characters")
    a.add_argument("--role", choices=ROLES, default="learner", help="learner or educator (default: learner)")
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    c = sub.add_parser("create-class", help="a class taught by an educator; prints the code learners join with")
    c.add_argument("educator", help="the educator's account name")
    c.add_argument("title", help="the class's name, e.g. 'Genetics residents 2026'")
    s = sub.add_parser("create-set", help="an educator's quiz set; prints the code learners take it with")
    s.add_argument("educator", help="the educator's account name")
    s.add_argument("title", help="the set's title")
    s.add_argument("--purpose", choices=PURPOSES, default="practice", help="practice, pre-test or post-test")
    s.add_argument("--syndromes", required=True, help="comma-separated catalogue keys (e.g. down,noonan,kabuki)")
    s.add_argument("--mode", default="syndrome", help="syndrome (name the syndrome) or features (name the features)")
    s.add_argument("--questions", type=int, default=10, help="number of questions (default: 10)")
    s.add_argument("--choices", type=int, default=4, help="choices per question (default: 4)")
    s.add_argument("--difficulty", default="similar", help="similar or dissimilar distractors (default: similar)")
    s.add_argument("--intensity", type=float, default=1.0, help="feature intensity, 0.5 to 1.5 (default: 1)")
    s.add_argument("--generator", default="phenotype", help="phenotype (default) or diffusion: what draws the faces")
    s.add_argument("--seed", type=int, default=None, help="the faces' seed (default: a random one, printed)")
    d = sub.add_parser("dashboard", help="an educator's class results: PNG plots, CSV tables, xAPI statements")
    d.add_argument("educator", help="the educator's account name")
    d.add_argument("--class-code", default=None, help="one class (default: all the educator's classes)")
    d.add_argument("--set-code", default=None, help="one quiz set (default: every quiz)")
    d.add_argument("--learner", default=None, help="one learner of the class (default: every learner)")
    d.add_argument("--out", required=True, help="folder to write dashboard.png, per_syndrome.csv, ... into")
    d.add_argument("--home-page", default="http://127.0.0.1:7860", help="the server's address, for xAPI actors")
    args = p.parse_args(argv)
    try:
        store = ProgrammeStore(args.db)
        if args.command == "add-account":
            password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
            account = store.create_account(args.name, password, args.role)
            print(f"added {account.role} {account.name!r}")
        elif args.command == "create-class":
            print(store.create_class(args.educator, args.title))
        elif args.command == "create-set":
            seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
            settings = QuizSettings(
                mode=args.mode, syndromes=tuple(k.strip() for k in args.syndromes.split(",") if k.strip()),
                n_questions=args.questions, n_choices=args.choices, intensity=args.intensity,
                difficulty=args.difficulty, generator=args.generator, seed=seed,
            )  # fmt: skip
            quiz_set = store.create_set(args.educator, args.title, settings, args.purpose)
            print(f"{quiz_set.code}  ({quiz_set.purpose}, {settings.n_questions} questions, seed {seed})")
        else:
            _write_dashboard(store, args)
    except (ValueError, AccessDenied, SetConflict) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _write_dashboard(store: ProgrammeStore, args) -> None:
    from models.phenotype.catalog import load_catalog
    from models.quiz import dashboard, xapi

    rows = store.class_answers(args.educator, args.class_code, args.set_code, args.learner)
    records = [r for r, _ in rows]
    names = {k: load_catalog().get(k).name for k in {r.syndrome for r in records}}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dashboard.save_png(dashboard.figure(records, names, title=args.class_code or "all classes"), out / "dashboard.png")
    dashboard.save_csv(dashboard.accuracy_table(records, "syndrome", names), out / "per_syndrome.csv")
    dashboard.save_csv(dashboard.accuracy_table(records, "learner"), out / "per_learner.csv")
    dashboard.save_csv(dashboard.calibration_table(records), out / "calibration.csv")
    dashboard.save_csv(dashboard.progress(records), out / "progress.csv")
    xapi.write_statements(xapi.statements(rows, args.home_page), out / "xapi_statements.json")
    n_learners = len({r.learner for r in records})
    print(f"{len(records)} answers of {n_learners} learner{'s' if n_learners != 1 else ''} -> {out}")


if __name__ == "__main__":
    raise SystemExit(main())
