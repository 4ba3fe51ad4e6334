"""The Explain tab: its callback as a plain function with the shipped classifier, and the app built once."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from gradio.utils import get_upload_folder
from PIL import Image

from models import provenance, runtime
from models.phenotype import synthesizer
from models.phenotype.spec import RenderSpec
from models.saliency import RegionShare, app_settings, explain, report
from ui import explain as tab
from ui import explain_files, explain_pictures, explain_tables

pytestmark = pytest.mark.skipif(
    not (runtime.paths().classifier_dir / "model.safetensors").is_file(), reason="no shipped classifier"
)
SYNDROME = "williams_beuren"
DRAWN = dict(syndrome=SYNDROME, age=5.0, sex="female", skin_tone=4, seed=3)


def _call(source=tab.DRAW, upload=None, method="gradcam", target=tab.PREDICTED, contrast=True, baseline="black",
          research=False, session_dir=None, **drawn):  # fmt: skip
    d = {**DRAWN, **drawn}
    return tab.explain_face(
        source, d["syndrome"], d["age"], d["sex"], d["skin_tone"], d["seed"], upload, method, target, contrast,
        baseline, research, session_dir,
    )  # fmt: skip


@pytest.fixture(scope="module")
def drawn(one_thread):
    """Integrated Gradients against the counterfactual on a drawn child with Williams-Beuren syndrome."""
    result, folder = _call(method="integrated_gradients", baseline="counterfactual")
    yield result, folder
    explain_files.remove_session_dir(folder)


@pytest.fixture(scope="module")
def model(one_thread):
    """The shipped classifier, as the tab loads it."""
    return runtime.classifier()


def _in_upload_cache(name: str = "upload.png") -> Path:
    """A path where Gradio would have received an upload: a fresh folder inside its upload cache."""
    folder = Path(get_upload_folder()) / f"phenoface-test-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    return folder / name


def _upload_copy(source: Path, folder: Path | None = None) -> Path:
    """`source` copied into `folder`, by default a fresh folder inside Gradio's upload cache."""
    target = folder / "upload.png" if folder is not None else _in_upload_cache()
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(source, target))


def test_drawn_face_gives_marked_overlay_regions_features_and_top5(drawn):
    result, folder = drawn
    assert result.synthetic and result.show_probabilities
    assert result.overlay.shape == result.crop.shape == (336, 336, 3)
    assert result.overlay.dtype == result.crop.dtype == np.uint8
    assert list(result.regions.columns) == explain_tables.REGION_COLUMNS
    assert result.regions["Share"].sum() == pytest.approx(1.0, abs=0.01)
    assert result.regions["Region"].iloc[-1] == report.REMAINDER
    assert list(result.top.columns) == explain_tables.TOP_COLUMNS and len(result.top) == 5
    assert list(result.top["Rank"]) == [1, 2, 3, 4, 5]
    assert result.top["Probability"].is_monotonic_decreasing
    assert "(OMIM:194050)" in result.top["Syndrome"].iloc[0]  # display name with the OMIM id
    sample = synthesizer.render(RenderSpec(syndrome=SYNDROME, age=5.0, skin_tone=4, seed=3, size=tab.RENDER_SIZE))
    assert list(result.hpo["HPO id"]) == list(sample.hpo_present)
    assert all(result.hpo["Feature"].str.len() > 0)
    steps = app_settings("integrated_gradients")["steps"]
    for words in (f"{steps} integration steps", "Counterfactual", "minus the unaffected logit", "render"):
        assert words in result.settings
    assert "a child with Williams-Beuren syndrome" in result.settings  # person-first


def test_drawn_face_is_saved_with_provenance(drawn):
    _, folder = drawn
    meta = provenance.read_png_metadata(Path(folder) / "face.png")
    assert meta["synthetic"] == "true"
    assert f'"syndrome":"{SYNDROME}"' in meta["spec"]


def test_drawn_overlay_is_the_explanation_marked_synthetic(model):
    result, folder = _call(method="gradcam")
    try:
        expected = explain(model, Path(folder) / "face.png", "gradcam", contrast="unaffected").overlay
        np.testing.assert_array_equal(result.overlay, provenance.mark_synthetic(expected))
    finally:
        explain_files.remove_session_dir(folder)
    assert not Path(folder).exists()


def test_upload_is_deleted_not_marked_and_hides_probabilities(drawn, model, tmp_path):
    upload = _upload_copy(Path(drawn[1]) / "face.png")
    data = upload.read_bytes()
    result, folder = _call(tab.UPLOAD, upload=str(upload), method="gradcam")
    assert not upload.exists()
    assert folder is None and not result.synthetic
    # the overlay is the explanation of the bytes as they were: no SYNTHETIC mark added
    np.testing.assert_array_equal(result.overlay, explain(model, data, "gradcam", contrast="unaffected").overlay)
    assert not result.show_probabilities
    assert "Probability" not in result.top.columns and len(result.top) == 5
    assert "Score" not in result.settings and "face mesh" in result.settings
    assert result.hpo.empty
    assert result.regions["Share"].sum() == pytest.approx(1.0, abs=0.01)


def test_upload_in_profile_gets_a_note_that_the_map_says_little(one_thread, tmp_path):
    spec = RenderSpec(syndrome="down", age=5, sex="female", skin_tone=4, seed=0, size=256, view="profile")
    upload = _in_upload_cache()
    Image.fromarray(synthesizer.render(spec).image).save(upload)
    result, _ = _call(tab.UPLOAD, upload=str(upload), method="gradcam")
    assert result.settings.startswith("**Note:** The face is turned away") and not upload.exists()
    drawn_frontal, folder = _call(method="gradcam")
    explain_files.remove_session_dir(folder)
    assert "**Note:**" not in drawn_frontal.settings


def test_upload_outputs_hide_the_ranking_and_clear_the_upload(drawn, tmp_path):
    upload = _upload_copy(Path(drawn[1]) / "face.png")
    args = (tab.UPLOAD, *DRAWN.values(), {"path": str(upload)}, "saliency", tab.PREDICTED, True, "black", False, None)
    pictures, settings, _, _, plot, ranking, upload_value, session_dir = tab.explain_outputs(*args)
    assert not upload.exists()
    assert pictures.count("data:image/png;base64,") == 2 and "file=" not in pictures  # inline, never a file
    assert tab.UPLOAD_NOTICE in settings
    assert plot["visible"] is False
    assert ranking == tab.RANKING_HIDDEN  # no syndrome list for a photograph outside research mode
    assert upload_value is None and session_dir is None
    # ... and no top-1 either: no class the classifier knows is named anywhere on the page
    names = [explain_tables.class_label(c) for c in runtime.classifier().config.classes]
    assert not [n for n in names if n in settings or n in pictures], settings
    assert "top-1 class (hidden)" in settings


def test_research_mode_shows_probabilities_and_cache_folder_is_removed(drawn):
    folder = Path(get_upload_folder()) / f"phenoface-test-{uuid.uuid4().hex}"
    upload = _upload_copy(Path(drawn[1]) / "face.png", folder)
    result, _ = _call(tab.UPLOAD, upload=str(upload), method="gradcam", research=True)
    assert not upload.exists() and not folder.exists()
    assert result.show_probabilities and "Probability" in result.top.columns
    assert "Score" in result.settings


def test_drawn_outputs_show_the_bar_chart(drawn):
    result, folder = drawn
    pictures = explain_pictures.pictures_html(result, folder)
    assert pictures.count("data:image/png;base64,") == 2
    assert provenance.read_png_metadata(Path(folder) / "overlay.png")["synthetic"] == "true"
    figure = explain_pictures.top_figure(result.top)
    assert figure.count("<li ") == 5 and f"{result.top['Probability'].iloc[0]:.2f}</span>" in figure
    # the bars are drawn most probable first, each as wide as its probability
    widths = [float(w) for w in re.findall(r"width:([\d.]+)em", figure)]
    assert widths == sorted(widths, reverse=True)
    assert widths[0] == pytest.approx(16 * result.top["Probability"].iloc[0], abs=0.01)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("grey", "No face found"),
        ("truncated", "Could not read the file as an image"),
        ("text", "Could not read the file as an image"),
    ],
)
def test_bad_upload_gives_one_line_error_and_is_deleted(drawn, tmp_path, content, message):
    path = _in_upload_cache()
    if content == "grey":
        Image.new("RGB", (256, 256), (128, 128, 128)).save(path)
    elif content == "truncated":
        path.write_bytes((Path(drawn[1]) / "face.png").read_bytes()[:2000])
    else:
        path.write_text("not an image")
    with pytest.raises(gr.Error, match=message) as err:
        _call(tab.UPLOAD, upload=str(path), method="saliency")
    assert "\n" not in str(err.value.message)
    assert not path.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"source": tab.UPLOAD}, "Upload an image first"),
        ({"source": tab.UPLOAD, "upload": str(Path(get_upload_folder()) / "gone" / "upload.png")}, "already deleted"),
        ({"source": tab.UPLOAD, "upload": "/nonexistent/phenoface/upload.png"}, "not uploaded to this server"),
        ({"method": "magic"}, "Unknown method"),
        ({"target": "no_such_class"}, "Unknown class"),
        ({"syndrome": "no such syndrome"}, "Unknown syndrome"),
        ({"seed": -1}, "seed"),
        ({"skin_tone": 11}, "skin tone"),
        ({"age": 30.0}, "[Aa]ge must be"),
        ({"age": "five"}, "age must be"),
    ],
)
def test_bad_input_raises_gr_error(one_thread, changes, message):
    with pytest.raises(gr.Error, match=message) as err:
        _call(**changes)
    assert err.value.print_exception is False  # expected input, so no traceback on the server's console


def test_counterfactual_baseline_refused_for_uploads(drawn, tmp_path):
    upload = _upload_copy(Path(drawn[1]) / "face.png")
    with pytest.raises(gr.Error, match="counterfactual"):
        _call(tab.UPLOAD, upload=str(upload), method="integrated_gradients", baseline="counterfactual")
    assert not upload.exists()


def test_source_switch_hides_the_counterfactual_for_uploads():
    draw, upload, baseline = tab.on_source_change(tab.UPLOAD, "counterfactual")
    assert draw["visible"] is False and upload["visible"] is True
    assert baseline["value"] == "blurred" and "counterfactual" not in [k for _, k in baseline["choices"]]
    _, _, baseline = tab.on_source_change(tab.DRAW, "black")
    assert baseline["value"] == "black" and len(baseline["choices"]) == 3


def test_choices_use_readable_names():
    assert [name for _, name in [(k, explain_tables.METHOD_NAMES[k]) for k in tab.METHODS]] == [
        "Integrated Gradients", "Saliency", "Grad-CAM", "Occlusion",
        "SmoothGrad over Integrated Gradients (Captum NoiseTunnel)",
    ]  # fmt: skip
    targets = tab.target_choices()
    assert targets[0][1] == tab.PREDICTED
    assert [k for _, k in targets[1:]] == list(runtime.classifier().config.classes)
    assert "steps" in explain_tables.settings_text("integrated_gradients")
    assert "window" in explain_tables.settings_text("occlusion")


def test_report_helpers(model, drawn):
    shares = [RegionShare("eyes", 0.5, 0.2, 2.5), RegionShare("nose", 0.3, 0.1, 3.0)]
    full = report.with_remainder(shares)
    assert full[-1].region == report.REMAINDER
    assert full[-1].share == pytest.approx(0.2) and full[-1].area == pytest.approx(0.7)
    assert report.with_remainder([RegionShare("eyes", 0.0, 0.2, 0.0)])[-1].share == 0.0
    crop = np.asarray(Image.fromarray(drawn[0].crop).resize((112, 112)))
    top = report.top_classes(model, crop, k=3)
    assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1]


def test_whole_app_builds():
    from ui import build_app

    demo = build_app(generate_on_load=False)
    assert isinstance(demo, gr.Blocks)
    names = {getattr(fn, "api_name", None) for fn in demo.fns.values()}
    assert "explain" in names
