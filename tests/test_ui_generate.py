"""The Generate tab: its callbacks as plain functions, then once through a launched app and gradio_client."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from models import provenance, runtime
from models.faces import DIFFUSION_SAMPLING
from models.phenotype import synthesizer
from models.phenotype.catalog import load_catalog
from models.phenotype.composite import average_portrait
from models.phenotype.morphology import FEATURES
from models.phenotype.spec import RenderSpec
from ui import (
    build_app,
    generate,
    generate_choice,
    generate_downloads,
    generate_learned,
    generate_phenotype,
    generate_tables,
    notice,
)

ROOT = Path(__file__).resolve().parents[1]
SIZE = 128  # pixels: the smallest the renderer draws, to keep the tests fast


def _syndrome_key() -> str:
    """A syndrome with features we draw (Williams-Beuren syndrome when the catalogue has it)."""
    catalog = load_catalog()
    keys = [s.key for s in catalog.syndromes if s.depicted_terms]
    return "williams_beuren" if "williams_beuren" in keys else keys[0]


def _call(syndrome, n_faces=2, seed=3, intensity=1.0, session_dir=None, generator=generate_choice.PHENOTYPE, **kw):
    args = dict(age=5.0, sex="female", skin_tone=4, eye_colour="random", hair_colour="random", view="frontal")
    args.update(kw)
    return generate.generate(
        syndrome, args["age"], args["sex"], args["skin_tone"], args["eye_colour"], args["hair_colour"],
        intensity, n_faces, seed, args["view"], session_dir, generator, kw.get("ancestry", "random"), size=SIZE,
        steps=2,
    )  # fmt: skip


def _image(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture(scope="module")
def syndromic():
    """One call for a child with a syndrome: 2 faces, seed 3, and the session folder it made."""
    out = _call(_syndrome_key())
    yield out
    generate_downloads.remove_session_dir(out.session_dir)


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
    assert list(table.columns) == generate_tables.FEATURE_COLUMNS
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
    second = _call(key, n_faces=1, seed=1, session_dir=first.session_dir)
    folder = Path(second.session_dir)
    assert folder == Path(first.session_dir)
    assert [p.name for p in folder.glob("*.png")] == [Path(second[4]).name]  # the last download only
    generate_downloads.remove_session_dir(str(folder))
    assert not folder.exists()


def test_unaffected_shows_single_faces_and_no_features():
    out = _call("unaffected", n_faces=3)
    try:
        assert len(out[0]) == 3
        assert all(caption.endswith(notice.UNAFFECTED) for _, caption in out[0])
        assert out[2].empty and out[3].empty
        assert out.toggles["interactive"] is False
    finally:
        generate_downloads.remove_session_dir(out.session_dir)


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
    choices = generate_tables.syndrome_choices()
    assert choices[0][1] == "unaffected"
    assert all("(OMIM:" in label for label, key in choices[1:] if load_catalog().get(key).omim)
    html = generate.skin_tone_html(6)
    assert all(f"#{code}" in html for code in generate.MONK_HEX)
    assert html.count("outline:3px") == 1


# --- feature toggles, age strip, average portrait, ZIP -------------------------------------------


def _compatible(choices, k: int) -> list[str]:
    """The first `k` feature ids among `choices` that change different measurements."""
    chosen, dims = [], set()
    for _, hpo_id in choices:
        if FEATURES[hpo_id].dimension not in dims:
            chosen.append(hpo_id)
            dims.add(FEATURES[hpo_id].dimension)
        if len(chosen) == k:
            break
    return chosen


def test_toggles_start_with_face_1_features_and_redraw_it_unchanged(syndromic):
    spec = RenderSpec(syndrome=_syndrome_key(), age=5.0, skin_tone=4, seed=3, intensity=1.0, size=SIZE)
    toggles = syndromic.toggles
    assert toggles["interactive"] is True
    assert set(toggles["value"]) == set(synthesizer.render(spec).hpo_realised)
    assert {hpo_id for _, hpo_id in toggles["choices"]} >= set(toggles["value"])
    gallery, _, _, _ = generate_phenotype.toggle_features(toggles["value"], syndromic.face, syndromic.session_dir)
    np.testing.assert_array_equal(_image(gallery[0][0]), _image(syndromic.gallery[0][0]))


def test_toggles_redraw_face_1_with_exactly_the_chosen_features(syndromic):
    chosen = _compatible(syndromic.toggles["choices"], 3)
    gallery, note, archive, face = generate_phenotype.toggle_features(chosen, syndromic.face, syndromic.session_dir)
    assert len(gallery) == 2 and "chosen features" in gallery[0][1]
    assert notice.WITHOUT_SYNDROME in gallery[1][1]
    meta = provenance.read_png_metadata(gallery[0][0])
    assert meta["synthetic"] == "true"
    assert set(meta["hpo_realised"].split(";")) == set(chosen)
    spec = RenderSpec(syndrome=_syndrome_key(), age=5.0, skin_tone=4, seed=3, intensity=1.0, size=SIZE)
    expected = synthesizer.render(replace(spec, features=tuple(chosen)))
    np.testing.assert_array_equal(_image(gallery[0][0]), provenance.mark_synthetic(expected.image))
    plain = provenance.mark_synthetic(synthesizer.render(replace(spec, intensity=0.0)).image)
    np.testing.assert_array_equal(_image(gallery[1][0]), plain)
    assert tuple(face["spec"]["features"]) == tuple(chosen) and "feature(s)" in note
    assert Path(archive).is_file()
    # none ticked: the child without any of the syndrome's features
    gallery, note, _, _ = generate_phenotype.toggle_features([], syndromic.face, syndromic.session_dir)
    assert provenance.read_png_metadata(gallery[0][0])["hpo_realised"] == ""
    assert "No feature" in note


def test_contradictory_toggles_give_the_renderers_message(syndromic):
    choices = {hpo_id for _, hpo_id in syndromic.toggles["choices"]}
    by_dimension: dict[str, list[str]] = {}
    for hpo_id in choices:
        by_dimension.setdefault(FEATURES[hpo_id].dimension, []).append(hpo_id)
    pair = next(ids for ids in by_dimension.values() if len(ids) > 1)  # e.g. thick and everted lower lip
    with pytest.raises(gr.Error, match="change the same measurement"):
        generate_phenotype.toggle_features(pair, syndromic.face, syndromic.session_dir)
    with pytest.raises(gr.Error, match="not one of the features"):
        generate_phenotype.toggle_features(["HP:0000316" if "HP:0000316" not in choices else "HP:9999999"],
                                           syndromic.face, syndromic.session_dir)  # fmt: skip
    with pytest.raises(gr.Error, match="Generate first"):
        generate_phenotype.toggle_features(sorted(choices)[:1], None, None)


def test_age_strip_shows_the_same_child_at_five_ages(syndromic):
    gallery, archive = generate_phenotype.age_strip(syndromic.face, syndromic.session_dir)
    assert len(gallery) == len(generate_phenotype.STRIP_AGES) == 5
    ages = []
    for (path, caption), age in zip(gallery, (1, 4, 8, 12, 16), strict=True):
        meta = provenance.read_png_metadata(path)
        spec = json.loads(meta["spec"])
        assert meta["synthetic"] == "true" and spec["seed"] == 3
        assert caption.startswith(f"{age} year")
        ages.append(spec["age"])
        assert _image(path).shape == (SIZE, SIZE, 3)
    assert ages == [1, 4, 8, 12, 16]
    with pytest.raises(gr.Error, match="Generate first"):
        generate_phenotype.age_strip(None, syndromic.session_dir)


def test_average_portraits_are_marked_and_captioned(syndromic):
    gallery, _ = generate_phenotype.average_portraits(syndromic.face, 4, syndromic.session_dir)
    assert [caption for _, caption in gallery] == [
        f"average of 4 synthetic children with {load_catalog().get(_syndrome_key()).name}",
        "average of the same 4 synthetic children without the syndrome",
    ]
    args = (_syndrome_key(), 5.0, "female", 4, 4, 3, SIZE)
    expected = [average_portrait(*args, 1.0), average_portrait(*args, 0.0)]
    for (path, _), image in zip(gallery, expected, strict=True):
        assert provenance.read_png_metadata(path)["synthetic"] == "true"
        np.testing.assert_array_equal(_image(path), provenance.mark_synthetic(image))
    with pytest.raises(gr.Error, match="number of children"):
        generate_phenotype.average_portraits(syndromic.face, 1, syndromic.session_dir)


def test_the_3d_child_is_offered_with_its_own_features_ages_and_mean_shape_average():
    from models.phenotype.engine3d import DRAWN_3D

    out = _call(_syndrome_key(), n_faces=1, generator=generate_choice.PHENOTYPE_3D, view="three_quarter",
                ancestry="asian")  # fmt: skip
    try:
        assert len(out.gallery) == 2 and "asian head shape" in out.summary and "three-quarter" in out.summary
        meta = provenance.read_png_metadata(out.gallery[0][0])
        assert "engine3d" in meta["generator"] and json.loads(meta["spec"])["ancestry"] == "asian"
        choices = [hpo for _, hpo in out.toggles["choices"]]
        assert choices and set(choices) <= DRAWN_3D
        assert set(out.features["HPO id"]) <= DRAWN_3D
        gallery, _ = generate_phenotype.age_strip(out.face, out.session_dir)
        assert all("engine3d" in provenance.read_png_metadata(p)["generator"] for p, _ in gallery)
        average, _ = generate_phenotype.average_portraits(out.face, 3, out.session_dir)
        meta = provenance.read_png_metadata(average[0][0])
        assert meta["method"] == "mean 3D shape, rendered once" and meta["synthetic"] == "true"
        toggled, note, _, _ = generate_phenotype.toggle_features(choices[:1], out.face, out.session_dir)
        assert len(toggled) == 2 and "1 feature" in note
    finally:
        generate_downloads.remove_session_dir(out.session_dir)
    with pytest.raises(gr.Error, match="three-quarter view needs"):
        _call(_syndrome_key(), n_faces=1, view="three_quarter")
    with pytest.raises(gr.Error, match="ancestry"):
        _call(_syndrome_key(), n_faces=1, generator=generate_choice.PHENOTYPE_3D, ancestry="martian")


def _zip_contents(path):
    with zipfile.ZipFile(path) as archive:
        pngs = [name for name in archive.namelist() if name.endswith(".png")]
        metas = []
        for name in pngs:
            with archive.open(name) as f, Image.open(f) as im:
                im.load()
                metas.append(dict(im.text))
        rows = list(csv.DictReader(io.StringIO(archive.read("attributes.csv").decode())))
    return pngs, metas, rows


def test_zip_holds_every_face_shown_with_attributes():
    out = _call(_syndrome_key(), n_faces=3, seed=5)
    try:
        pngs, metas, rows = _zip_contents(out.archive)
        assert len(pngs) == len(out.gallery) == len(rows) == 6
        assert all(meta["synthetic"] == "true" for meta in metas)
        assert list(rows[0]) == generate_downloads.ATTRIBUTE_COLUMNS
        assert [row["file"] for row in rows] == pngs
        assert rows[0]["omim"] == ",".join(load_catalog().get(_syndrome_key()).omim).replace(",", ";")
        assert rows[0]["age_years"] == "5" and rows[0]["seed"] == "5" and rows[1]["intensity"] == "0"
        assert rows[0]["hpo_present"] == provenance.read_png_metadata(out.gallery[0][0])["hpo_present"]
        # the age strip is added to the set, and the ZIP is rewritten in place of the old one
        _, archive = generate_phenotype.age_strip(out.face, out.session_dir)
        pngs, _, rows = _zip_contents(archive)
        assert len(pngs) == len(rows) == 11
        assert list(Path(out.session_dir).glob("*.zip")) == [Path(archive)]
    finally:
        generate_downloads.remove_session_dir(out.session_dir)


# --- diffusion generators --------------------------------------------------------------------------

CLASSES = ["unaffected", "down", "williams_beuren"]


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory, one_thread):
    """A tiny random-weight PhenoFace pipeline saved to a folder, as tests/test_generator.py builds it."""
    import torch

    from models.generator import train
    from models.generator.config import GeneratorConfig, build_scheduler, build_unet
    from models.generator.pipeline import PhenoFacePipeline

    torch.manual_seed(0)
    config = GeneratorConfig(resolution=32, block_out_channels=(16, 32), attention_levels=(1,), class_names=CLASSES)
    pipe = PhenoFacePipeline(unet=build_unet(config), scheduler=build_scheduler(config), class_names=CLASSES)
    folder = tmp_path_factory.mktemp("tiny_generator")
    train.save_pipeline(pipe, folder)
    return folder


@pytest.fixture
def paths(monkeypatch):
    """Restore the runtime's model folders after the test."""
    monkeypatch.setattr(runtime, "_paths", runtime.paths())
    yield
    runtime.configure()


def test_learned_model_draws_marked_pairs_from_the_same_seed(tiny_generator, paths):
    from models.generator import sample as gen

    runtime.configure(generator_dir=tiny_generator)
    assert ("Learned diffusion model", generate_choice.LEARNED) in generate_choice.generator_choices()
    out = _call(_syndrome_key(), n_faces=2, seed=7, generator=generate_choice.LEARNED)
    try:
        assert len(out.gallery) == 4
        name = load_catalog().get(_syndrome_key()).name
        assert notice.with_syndrome(name) in out.gallery[0][1]
        assert all(caption.endswith(generate_choice.SAME_SEED) for _, caption in out.gallery[1::2])
        assert "same noise" in out.summary and "not checked" in out.summary
        # each face is the model's sample, upsampled to the display size and marked
        pipe = runtime.generator()
        classes = [_syndrome_key()] * 2 + ["unaffected"] * 2
        settings = (DIFFUSION_SAMPLING.guidance_scale, DIFFUSION_SAMPLING.sampler)
        samples = gen.generate(pipe, classes, 5.0, "female", 4, [7, 8, 7, 8], 2, *settings)
        for (path, _), k in zip(out.gallery, (0, 2, 1, 3), strict=True):
            meta = provenance.read_png_metadata(path)
            assert meta["synthetic"] == "true" and meta["generator"] == gen.GENERATOR_NAME
            expected = provenance.mark_synthetic(gen.upscale(samples[k].image, SIZE))
            np.testing.assert_array_equal(_image(path), expected)
        assert json.loads(provenance.read_png_metadata(out.gallery[1][0])["condition"])["syndrome"] == "unaffected"
        # the features are the syndrome's catalogue list; toggles and the age strip are off, and say why
        syndrome = load_catalog().get(_syndrome_key())
        assert list(out.features["HPO id"]) == [t.hpo_id for t in syndrome.depicted_terms]
        assert "catalogue" in out.features_label
        assert out.toggles["interactive"] is False and "same child" in out.toggles["info"]
        assert out.strip_button["interactive"] is False and out.tools_note
        with pytest.raises(gr.Error, match="same child"):
            generate_phenotype.age_strip(out.face, out.session_dir)
        pngs, _, rows = _zip_contents(out.archive)
        assert len(pngs) == len(rows) == 4 and rows[0]["generator"] == "learned diffusion model"
    finally:
        generate_downloads.remove_session_dir(out.session_dir)


def test_learned_model_conditioned_on_hpo_lists_the_features_face_1_was_drawn_with(tmp_path, paths, one_thread):
    import torch

    from models.generator import train
    from models.generator.config import GeneratorConfig, build_scheduler, build_unet
    from models.generator.pipeline import PhenoFacePipeline
    from models.generator.sample import draw_hpo_terms

    key = _syndrome_key()
    vocab = sorted({t.renders_as or t.hpo_id for t in load_catalog().get(key).depicted_terms})
    torch.manual_seed(0)
    config = GeneratorConfig(resolution=32, block_out_channels=(16, 32), attention_levels=(1,), class_names=CLASSES,
                             hpo_vocabulary=vocab)  # fmt: skip
    pipe = PhenoFacePipeline(unet=build_unet(config), scheduler=build_scheduler(config), class_names=CLASSES,
                             hpo_vocabulary=vocab)  # fmt: skip
    train.save_pipeline(pipe, tmp_path)
    runtime.configure(generator_dir=tmp_path)
    out = _call(key, n_faces=1, seed=7, generator=generate_choice.LEARNED)
    try:
        (drawn,) = draw_hpo_terms(vocab, [key], [5.0], ["female"], [4], [7])
        assert drawn and list(out.features["HPO id"]) == list(drawn)
        assert out.features_label == generate_learned.HPO_DRAWN_LABEL
        meta = provenance.read_png_metadata(out.gallery[0][0])
        assert json.loads(meta["condition"])["hpo_terms"] == list(drawn)
        assert json.loads(provenance.read_png_metadata(out.gallery[1][0])["condition"])["hpo_terms"] == []
    finally:
        generate_downloads.remove_session_dir(out.session_dir)


def test_learned_model_withholds_a_near_copy_and_says_so(tiny_generator, paths, tmp_path):
    import shutil

    import torch

    from models.generator import sample as gen
    from models.generator.identity import vectors
    from models.generator.privacy_index import Thresholds, build_checker, install

    # a checker whose "training images" are the very face and pair seed 7 draws: the app must refuse both
    folder = tmp_path / "generator"
    shutil.copytree(tiny_generator, folder)
    settings = (DIFFUSION_SAMPLING.guidance_scale, DIFFUSION_SAMPLING.sampler)
    tiny = gen.load_generator(tiny_generator)
    first, pair = gen.generate(tiny, [_syndrome_key(), "unaffected"], 5.0, "female", 4, [7, 7], 2, *settings)
    others = torch.randn(4, 128, generator=torch.Generator().manual_seed(0))
    install(folder, build_checker(torch.cat([vectors(np.stack([first.image, pair.image])), others]), Thresholds()))
    runtime.configure(generator_dir=folder)
    out = _call(_syndrome_key(), n_faces=1, seed=7, generator=generate_choice.LEARNED)
    try:
        assert "2 samples too close to a training image were withheld and redrawn" in out.summary
        meta = provenance.read_png_metadata(out.gallery[0][0])
        assert meta["seed"] == str(7 + 1_000_003) and meta["memorisation_filter"] == "passed"
        assert not np.array_equal(_image(out.gallery[0][0]), provenance.mark_synthetic(gen.upscale(first.image, SIZE)))
    finally:
        generate_downloads.remove_session_dir(out.session_dir)


def test_learned_model_not_installed_gives_a_clear_message(tmp_path, paths):
    runtime.configure(generator_dir=tmp_path)
    assert any("not installed" in label for label, key in generate_choice.generator_choices() if key == "learned")
    assert "not installed" in generate_choice.generator_note(generate_choice.LEARNED)
    with pytest.raises(gr.Error, match="not installed"):
        _call(_syndrome_key(), generator=generate_choice.LEARNED)
    with pytest.raises(gr.Error, match="Choose a generator"):
        _call(_syndrome_key(), generator=generate_choice.EXTERNAL)  # no --external-pipeline given
    offered = [value for _, value in generate_choice.generator_choices()]
    assert offered == [generate_choice.PHENOTYPE, generate_choice.PHENOTYPE_3D, generate_choice.LEARNED]


def test_external_phenoface_pipeline_is_loaded_with_load_generator(tiny_generator, paths):
    runtime.configure(external_pipeline=tiny_generator)
    label = f"External local pipeline ({tiny_generator.name})"
    assert generate_choice.generator_choices()[-1] == (label, generate_choice.EXTERNAL)
    out = _call("down", n_faces=1, generator=generate_choice.EXTERNAL)
    generate_downloads.remove_session_dir(out.session_dir)
    assert len(out.gallery) == 2 and out.gallery[1][1].endswith(generate_choice.SAME_SEED)
    assert "PhenoFace pipeline" in out.summary


def test_external_text_pipeline_gets_a_prompt(paths, monkeypatch, tmp_path):
    import torch

    calls = []

    class TextPipeline:
        def __call__(self, **kwargs):
            calls.append(kwargs)
            return SimpleNamespace(images=[Image.new("RGB", (96, 80), (200, 150, 120))])

    runtime.configure(external_pipeline=tmp_path)
    monkeypatch.setattr(generate_learned, "load_external", lambda folder: ("text", TextPipeline()))
    out = _call(_syndrome_key(), n_faces=1, seed=4, age=6.0, generator=generate_choice.EXTERNAL)
    try:
        name = load_catalog().get(_syndrome_key()).name
        assert calls[0]["prompt"].startswith(f"portrait photograph of a 6-year-old girl with {name}")
        assert "with" not in calls[1]["prompt"].split("girl")[1].split(",")[0]
        assert calls[0]["num_inference_steps"] > 0 and calls[0]["guidance_scale"] > 1
        assert isinstance(calls[0]["generator"], torch.Generator) and calls[0]["generator"].initial_seed() == 4
        assert out.gallery[1][1].endswith(generate_choice.SAME_SEED)
        for path, _ in out.gallery:
            assert _image(path).shape == (SIZE, SIZE, 3)
            assert provenance.read_png_metadata(path)["synthetic"] == "true"

    finally:
        generate_downloads.remove_session_dir(out.session_dir)


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
        out = client.predict(
            _syndrome_key(), 5.0, "male", 7, "random", "random", 1.0, 1, 11, "frontal", "phenotype",
            api_name="/generate",
        )  # fmt: skip
        gallery, summary, features, not_depicted, download, archive = out[:6]
        assert len(gallery) == 2
        assert all(Path(item["image"]).is_file() for item in gallery)
        assert notice.WITHOUT_SYNDROME in gallery[1]["caption"]
        assert Path(download).is_file()
        assert features["headers"] == generate_tables.FEATURE_COLUMNS
        assert zipfile.is_zipfile(archive)
        # the session's state carries face 1 to the age strip
        strip, archive = client.predict(api_name="/age_strip")
        strip = strip["value"] if isinstance(strip, dict) else strip  # the gallery is revealed by an update
        assert [item["caption"] for item in strip] == ["1 year", "4 years", "8 years", "12 years", "16 years"]
        with pytest.raises(Exception, match="Unknown syndrome"):
            client.predict("no such syndrome", 5.0, "male", 7, "random", "random", 1.0, 1, 11, "frontal",
                           "phenotype", api_name="/generate")  # fmt: skip
        # the 3D child through the API, with a head shape by ancestry
        out = client.predict(_syndrome_key(), 5.0, "male", 7, "random", "random", 1.0, 1, 11, "three_quarter",
                             "phenotype_3d", "african", api_name="/generate")  # fmt: skip
        assert len(out[0]) == 2 and "african head shape" in out[1]
    finally:
        demo.close()
