"""The Generate tab: its callbacks as plain functions, then once through a launched app and gradio_client."""

from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from models import provenance
from models.phenotype import synthesizer
from models.phenotype.catalog import load_catalog
from models.phenotype.spec import RenderSpec
from ui import build_app, generate, notice

ROOT = Path(__file__).resolve().parents[1]
SIZE = 128  # pixels: the smallest the renderer draws, to keep the tests fast


def _syndrome_key() -> str:
    """A syndrome with features we draw (Williams-Beuren syndrome when the catalogue has it)."""
    catalog = load_catalog()
    keys = [s.key for s in catalog.syndromes if s.depicted_terms]
    return "williams_beuren" if "williams_beuren" in keys else keys[0]


def _call(syndrome, n_faces=2, seed=3, intensity=1.0, session_dir=None, **kw):
    args = dict(age=5.0, sex="female", skin_tone=4, eye_colour="random", hair_colour="random", view="frontal")
    args.update(kw)
    return generate.generate(
        syndrome, args["age"], args["sex"], args["skin_tone"], args["eye_colour"], args["hair_colour"],
        intensity, n_faces, seed, args["view"], session_dir, size=SIZE,
    )  # fmt: skip


@pytest.fixture(scope="module")
def syndromic():
    """One call for a child with a syndrome: 2 faces, seed 3, and the session folder it made."""
    out = _call(_syndrome_key())
    yield out
    generate.remove_session_dir(out[-1])


def test_returns_pairs_of_marked_faces(syndromic):
    gallery = syndromic[0]
    assert len(gallery) == 4  # 2 children x (with, without)
    name = load_catalog().get(_syndrome_key()).name
    for i in range(2):
        (with_path, with_cap), (without_path, without_cap) = gallery[2 * i], gallery[2 * i + 1]
        # shown as PNG files whose metadata says synthetic, so a face saved from the page keeps it
        assert provenance.read_png_metadata(with_path)["synthetic"] == "true"
        with_img, without_img = (np.asarray(Image.open(p).convert("RGB")) for p in (with_path, without_path))
        assert with_img.shape == without_img.shape == (SIZE, SIZE, 3)
        assert notice.with_syndrome(name) in with_cap
        assert notice.WITHOUT_SYNDROME in without_cap
    # The first face is the renderer's image with the visible SYNTHETIC mark, nothing else.
    spec = RenderSpec(syndrome=_syndrome_key(), age=5.0, skin_tone=4, seed=3, intensity=1.0, size=SIZE)
    expected = provenance.mark_synthetic(synthesizer.render(spec).image)
    np.testing.assert_array_equal(np.asarray(Image.open(gallery[0][0]).convert("RGB")), expected)
    plain = provenance.mark_synthetic(synthesizer.render(replace(spec, intensity=0.0)).image)
    np.testing.assert_array_equal(np.asarray(Image.open(gallery[1][0]).convert("RGB")), plain)


def test_table_lists_the_features_the_first_child_shows(syndromic):
    spec = RenderSpec(syndrome=_syndrome_key(), age=5.0, skin_tone=4, seed=3, intensity=1.0, size=SIZE)
    sample = synthesizer.render(spec)
    table = syndromic[2]
    assert list(table.columns) == generate.FEATURE_COLUMNS
    assert list(table["HPO id"]) == list(sample.hpo_present)
    assert all(table["What it means"].str.len() > 0)
    assert "HPO release" in syndromic[1]


def test_not_depicted_table_gives_reasons(syndromic):
    syndrome = load_catalog().get(_syndrome_key())
    table = syndromic[3]
    assert list(table["HPO id"]) == [t.hpo_id for t in syndrome.not_depicted_terms]
    assert all(table["Why we do not draw it"].str.len() > 0)


def test_download_is_a_marked_png_with_metadata(syndromic):
    path, folder = Path(syndromic[4]), Path(syndromic[5])
    assert path.parent == folder and path.suffix == ".png"
    meta = provenance.read_png_metadata(path)
    assert meta["synthetic"] == "true"
    assert meta["app_notice"] == notice.NOTICE
    assert '"seed":3' in meta["spec"]
    np.testing.assert_array_equal(np.asarray(Image.open(path)), np.asarray(Image.open(syndromic[0][0][0])))


def test_session_folder_is_reused_and_removed():
    key = _syndrome_key()
    first = _call(key, n_faces=1, seed=0)
    second = _call(key, n_faces=1, seed=1, session_dir=first[-1])
    folder = Path(second[-1])
    assert folder == Path(first[-1])
    assert [p.name for p in folder.glob("*.png")] == [Path(second[4]).name]  # the last download only
    generate.remove_session_dir(str(folder))
    assert not folder.exists()


def test_unaffected_shows_single_faces_and_no_features():
    out = _call("unaffected", n_faces=3)
    try:
        assert len(out[0]) == 3
        assert all(caption.endswith(notice.UNAFFECTED) for _, caption in out[0])
        assert out[2].empty and out[3].empty
    finally:
        generate.remove_session_dir(out[-1])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"syndrome": "no such syndrome"}, "Unknown syndrome"),
        ({"syndrome": ""}, "Choose a syndrome"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"skin_tone": 11}, "skin tone"),
        ({"seed": None}, "seed"),
        ({"n_faces": 9}, "number of faces"),
        ({"n_faces": float("nan")}, "number of faces"),
        ({"age": 30.0}, None),  # message from validate_spec
        ({"sex": "unknown"}, None),
        ({"view": "top"}, None),
        ({"eye_colour": "purple"}, None),
    ],
)
def test_bad_input_raises_gr_error(changes, message):
    args = {"syndrome": _syndrome_key(), **changes}
    with pytest.raises(gr.Error, match=message):
        _call(**args)


def test_choices_and_swatches():
    choices = generate.syndrome_choices()
    assert choices[0][1] == "unaffected"
    assert all("(OMIM:" in label for label, key in choices[1:] if load_catalog().get(key).omim)
    html = generate.skin_tone_html(6)
    assert all(f"#{code}" in html for code in generate.MONK_HEX)
    assert html.count("outline:3px") == 1


def test_importing_app_loads_nothing_heavy():
    code = "import sys, app; heavy = {'gradio', 'torch', 'mediapipe', 'ui'} & set(sys.modules); print(sorted(heavy))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_generate_through_gradio_client(tmp_path):
    from gradio_client import Client

    demo = build_app(render_size=SIZE, generate_on_load=False)
    demo.queue(default_concurrency_limit=2)
    demo.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True)
    try:
        client = Client(demo.local_url, verbose=False, download_files=str(tmp_path))
        gallery, summary, features, not_depicted, download = client.predict(
            _syndrome_key(), 5.0, "male", 7, "random", "random", 1.0, 1, 11, "frontal", api_name="/generate"
        )
        assert len(gallery) == 2
        assert all(Path(item["image"]).is_file() for item in gallery)
        assert notice.WITHOUT_SYNDROME in gallery[1]["caption"]
        assert Path(download).is_file()
        assert features["headers"] == generate.FEATURE_COLUMNS
        with pytest.raises(Exception, match="Unknown syndrome"):
            client.predict("no such syndrome", 5.0, "male", 7, "random", "random", 1.0, 1, 11, "frontal",
                           api_name="/generate")  # fmt: skip
    finally:
        demo.close()
