"""The holes a hostile user found, each reproduced against the real thing: ``python app.py`` in a
subprocess driven over raw HTTP (as curl would), the command lines, and the loaders.

The server runs under a Python audit hook that logs every ``socket.connect`` and
``socket.getaddrinfo`` of its process (threads included), so a test can show it never reaches
past this machine. It runs with its own HOME and TMPDIR, so its database and caches are the
test's to inspect.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from models import tempfiles
from models.alignment import MAX_PIXELS, load_rgb
from models.classifier.config import ClassifierConfig
from models.classifier.model import load_classifier, save_weights
from tests.app_server import LOCAL_NAMES, ROOT, Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("server"))
    yield s
    s.stop()


def _bomb_png(side: int = 20_000) -> bytes:
    """A real decompression bomb: a valid grey PNG of side x side zeros, a few hundred KB on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    z = zlib.compressobj(9)
    row = bytes(side + 1)  # filter byte + one row of zeros
    body = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


EXPLAIN_ARGS = ["upload", "down", 5, "female", 4, 0, None, "saliency", "predicted", True, "black", False]


def _explain_with(upload) -> list:
    args = list(EXPLAIN_ARGS)
    args[6] = upload
    return args


# --- 1. the Explain endpoints read and delete only files Gradio received -------------------------------------


@pytest.mark.parametrize("api", ["explain", "explain_outputs"])
def test_explain_never_reads_or_deletes_a_file_the_payload_names(server, tmp_path, api):
    victim_text = tmp_path / "notes.txt"
    victim_text.write_text("a learner's notes")
    victim_png = tmp_path / "photo.png"
    Image.new("RGB", (64, 64), (200, 150, 120)).save(victim_png)
    for victim in (victim_text, victim_png):
        for payload in (
            {"path": str(victim)},
            {"path": str(victim), "meta": {"_type": "gradio.FileData"}},
            {"path": str(server.tmp / ".." / ".." / victim.relative_to(victim.anchor))},
            str(victim),
        ):
            kind, data = server.call(api, _explain_with(payload))
            assert kind == "error", (payload, data)
            assert victim.is_file(), f"{payload} deleted {victim}"
    kind, data = server.call(api, _explain_with({"path": str(victim_png)}))
    assert "not uploaded to this server" in data["error"]  # one clear sentence, and no crop of the file


def test_explain_never_deletes_a_face_or_download_the_app_made(server):
    kind, out = server.call(
        "generate", ["down", 5, "female", 3, "random", "random", 1.0, 1, 0, "frontal", "phenotype", "random"]
    )
    assert kind == "complete"
    outputs = [item["image"]["path"] for item in out[0]] + [out[4]["path"], out[6]["path"]]  # faces, PNG, ZIP
    assert all(Path(p).is_file() for p in outputs)
    for path in outputs:
        kind, data = server.call("explain", _explain_with({"path": path, "meta": {"_type": "gradio.FileData"}}))
        assert kind == "error" and "not uploaded to this server" in data["error"]
    assert all(Path(p).is_file() for p in outputs)


def test_no_endpoint_touches_a_file_outside_the_cache(server, tmp_path):
    info = httpx.get(f"{server.url}/gradio_api/info", timeout=30).json()
    endpoints = info["named_endpoints"]
    assert "/explain" in endpoints and "/quiz_start" in endpoints
    victims = []
    for name, endpoint in endpoints.items():
        victim = tmp_path / f"victim{name.replace('/', '_')}.png"
        Image.new("RGB", (32, 32)).save(victim)
        victims.append(victim)
        n = len(endpoint["parameters"])
        for payload in ({"path": str(victim)}, {"path": str(victim), "meta": {"_type": "gradio.FileData"}}):
            server.call(name.lstrip("/"), [payload] * n)
    assert all(v.is_file() for v in victims)
    assert server.proc.poll() is None


# --- 2. uploads have a size limit and a pixel limit checked before decoding ----------------------------------


def test_an_upload_over_the_size_limit_is_refused_and_not_kept(server):
    r = server.upload("big.png", os.urandom(21 * 2**20))
    assert r.status_code == 413
    kept = [p for p in server.tmp.rglob("big.png")]
    assert not kept


def test_a_decompression_bomb_gets_one_clear_message_without_filling_memory(server):
    before = server.peak_rss_mb()
    r = server.upload("bomb.png", _bomb_png())
    assert r.status_code == 200
    path = r.json()[0]
    kind, data = server.call("explain", _explain_with({"path": path, "meta": {"_type": "gradio.FileData"}}))
    assert kind == "error" and "megapixels" in data["error"], data
    assert not Path(path).exists()  # deleted after processing, refused or not
    assert server.peak_rss_mb() - before < 300  # 20,000 x 20,000 decoded would be 400 MB at least
    assert httpx.get(server.url, timeout=10).status_code == 200


def test_load_rgb_checks_the_pixel_count_before_decoding(tmp_path):
    with pytest.raises(ValueError, match="megapixels"):
        load_rgb(_bomb_png())
    side = int(MAX_PIXELS**0.5) + 16  # just over the limit, under Pillow's own bomb check
    header_only = tmp_path / "big.png"
    Image.new("L", (side, side)).save(header_only)
    with pytest.raises(ValueError, match=f"{side} x {side} pixels"):
        load_rgb(header_only)


# --- 3. huge parameters --------------------------------------------------------------------------------------


def _run(module: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_saliency_cli_bounds_steps_and_refuses_a_bomb(tmp_path):
    face = tmp_path / "face.png"
    Image.new("RGB", (128, 128), (180, 140, 120)).save(face)
    out = _run("models.saliency", "--image", str(face), "--out", str(tmp_path / "o.png"), "--steps", "100000")
    assert out.returncode == 2 and "--steps must be from 1 to 512" in out.stderr and "Traceback" not in out.stderr
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_bomb_png())
    out = _run("models.saliency", "--image", str(bomb), "--out", str(tmp_path / "o.png"))
    assert out.returncode == 2 and "megapixels" in out.stderr and "Traceback" not in out.stderr


def test_integrated_gradients_runs_many_steps_in_bounded_batches(model):
    from models.saliency.attribution import INTERNAL_BATCH, MAX_STEPS, attribute

    crop = np.random.default_rng(0).integers(0, 255, (112, 112, 3), dtype=np.uint8)
    sizes = []
    hook = model.register_forward_hook(lambda m, args, out: sizes.append(args[0].shape[0]))
    try:
        result = attribute(model, crop, "integrated_gradients", target="down", steps=70)
    finally:
        hook.remove()
    assert result.attributions.shape == (112, 112, 3) and np.isfinite(result.attributions).all()
    assert max(sizes) <= INTERNAL_BATCH and sum(s for s in sizes if s > 1) >= 70
    with pytest.raises(ValueError, match=f"steps must be from 1 to {MAX_STEPS}"):
        attribute(model, crop, "integrated_gradients", steps=100_000)


# --- 4. no outgoing connection; what --host and --share expose -----------------------------------------------


def test_the_server_opens_no_connection_past_this_machine(server):
    assert server.call("generator_note", ["phenotype"])[0] == "complete"
    records = [json.loads(line) for line in server.net_log.read_text().splitlines()]
    assert records, "the audit hook logged nothing: the check itself is broken"
    for kind, target in records:
        if kind == "getaddrinfo":
            assert target in LOCAL_NAMES, f"looked up {target}"
        else:
            assert target.startswith(("('127.", "('::1'", "'/")), f"connected to {target}"


def test_share_is_refused_and_a_public_host_is_warned_about():
    import app

    with pytest.raises(SystemExit) as err:
        app.parse_args(["--share"])
    assert err.value.code == 2
    assert app.exposure_warning("127.0.0.1") is None and app.exposure_warning("localhost") is None
    assert "every machine that can reach" in app.exposure_warning("0.0.0.0")
    assert "no login" in app.exposure_warning("phenoface.example.org")


def test_a_thirty_two_bit_image_is_held_to_fewer_pixels(tmp_path):
    side = 5600  # 31 megapixels: under the limit as 8-bit grey, over it as 32-bit grey (125 MB decoded)
    Image.new("L", (side, side)).save(tmp_path / "grey8.png")
    assert load_rgb(tmp_path / "grey8.png").shape == (side, side, 3)
    Image.new("I", (side, side)).save(tmp_path / "grey32.tif", compression="tiff_deflate")
    with pytest.raises(ValueError, match="mode I"):
        load_rgb(tmp_path / "grey32.tif")


# --- 5. exports and names ------------------------------------------------------------------------------------


HOSTILE_NAMES = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3"]


def test_quiz_csv_export_neutralises_formulas(tmp_path):
    import csv

    from models.quiz.results import AnswerRecord, export_csv

    records = [
        AnswerRecord(
            quiz_id=1,
            learner=name,
            position=i,
            mode="syndrome",
            syndrome="down",
            seed=-2,
            age=5.0,
            sex="female",
            skin_tone=4,
            intensity=1.0,
            generator="phenotype",
            choices=("down", "noonan"),
            correct_answer=("down",),
            answer=("noonan",),
            correct=False,
            confidence=3,
            answered_at="2026-12-03T17:00:00",
        )  # fmt: skip
        for i, name in enumerate(HOSTILE_NAMES)
    ]
    path = export_csv(records, tmp_path / "r.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["learner"] for r in rows] == ["'" + n for n in HOSTILE_NAMES]
    assert all(r["seed"] == "-2" for r in rows)  # numbers stay numbers


def test_a_learner_name_is_shown_as_text_not_html(tmp_path):
    from models import runtime
    from ui import quiz_results

    runtime.configure(db_path=tmp_path / "quiz.sqlite3")
    try:
        shown = quiz_results.learner_progress('<img src=x onerror="alert(1)"> **Ann**')
    finally:
        runtime.configure(db_path=Path.home() / ".phenoface" / "quiz.sqlite3")
    assert "<img" not in shown and "&lt;img" in shown and "**Ann**" not in shown
    assert "$$" not in quiz_results.learner_progress("$$x^2$$")  # no maths either


# --- 6. caches emptied at shutdown, and after a kill at the next start ---------------------------------------


def test_shutdown_empties_the_cache_and_a_killed_runs_files_go_at_the_next_start(tmp_path):
    first = Server(tmp_path)
    try:
        assert first.upload("face.png", b"\x89PNG not really").status_code == 200
        assert first.call("explain", _explain_with(None)[:6] + [None, "saliency", "predicted", True, "black", False])
        (folder,) = first.process_folders()
        assert any((folder / "gradio").rglob("face.png"))
    finally:
        first.stop(signal.SIGKILL)
    assert folder.is_dir()  # a killed process cleans nothing
    second = Server(tmp_path)
    try:
        assert not folder.exists()  # ... so the next start removes its folder
        (own,) = second.process_folders()
        second.upload("face.png", b"\x89PNG not really")
    finally:
        started = time.monotonic()
        second.stop(signal.SIGTERM)
        stopped_in = time.monotonic() - started
    assert second.proc.returncode == 0 and stopped_in < 5
    banner = second.proc.stdout.read()
    assert "PhenoFace is running at http://127.0.0.1:" in banner and "share=True" not in banner
    assert not own.exists() and not second.process_folders()
    assert not list(second.tmp.iterdir())  # nothing else either (torch's compile cache lives inside)


def test_remove_stale_keeps_folders_of_running_processes(tmp_path):
    alive = tmp_path / f"{tempfiles.PREFIX}{os.getpid()}-abc"
    dead_pid = 2**22 + 7  # above the kernel's pid_max default of 4,194,304
    dead = tmp_path / f"{tempfiles.PREFIX}{dead_pid}-xyz"
    other = tmp_path / "phenoface-notes"
    old_quiz, new_quiz = tmp_path / "phenoface-quiz-abc123", tmp_path / "phenoface-quiz-def456"  # earlier versions
    for p in (alive, dead, other, old_quiz, new_quiz):
        p.mkdir()
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old_quiz, (two_days_ago, two_days_ago))
    assert sorted(tempfiles.remove_stale(tmp_path)) == sorted([dead, old_quiz])
    assert alive.is_dir() and other.is_dir() and new_quiz.is_dir() and not dead.exists() and not old_quiz.exists()


# --- 7. broken model folders: one clear message, and no pickle ever runs -------------------------------------


class _Payload:
    """Unpickling this creates a marker file: proof that a pickle ran."""

    marker: Path

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _pickle_to(path: Path, marker: Path) -> None:
    payload = _Payload()
    payload.marker = marker
    path.write_bytes(pickle.dumps({"weights": payload}))


@pytest.fixture()
def classifier_folder(tmp_path, model):
    folder = tmp_path / "classifier"
    model.config.save(folder)
    save_weights(model, folder)
    return folder


def test_a_pickle_named_safetensors_is_refused_unread(classifier_folder, tmp_path):
    marker = tmp_path / "pickle_ran"
    _pickle_to(classifier_folder / "model.safetensors", marker)
    with pytest.raises(ValueError, match="not a safetensors file"):
        load_classifier(classifier_folder)
    out = _run("models.saliency", "--image", str(ROOT / "README.md"), "--out", str(tmp_path / "o.png"),
               "--model", str(classifier_folder))  # fmt: skip
    assert out.returncode == 2 and "not a safetensors file" in out.stderr and "Traceback" not in out.stderr
    assert not marker.exists()


def test_weights_for_another_number_of_classes_are_named_as_such(classifier_folder):
    config = ClassifierConfig.load(classifier_folder)
    ClassifierConfig(backbone=config.backbone, classes=[*config.classes, "kabuki", "sotos"]).save(classifier_folder)
    with pytest.raises(ValueError, match="5 classes; the weights have 3 classes"):
        load_classifier(classifier_folder)
    (classifier_folder / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a classifier config"):
        load_classifier(classifier_folder)


def test_the_app_says_what_is_wrong_with_a_broken_classifier(classifier_folder, tmp_path):
    from models import runtime
    from ui import explain
    from ui.session import Refusal

    _pickle_to(classifier_folder / "model.safetensors", tmp_path / "pickle_ran")
    runtime.configure(classifier_dir=classifier_folder)
    try:
        with pytest.raises(Refusal, match="not a safetensors file"):
            explain.explain_face(
                explain.DRAW, "down", 5, "female", 4, 0, None, "saliency", explain.PREDICTED, True, "black", False
            )
    finally:
        runtime.configure(classifier_dir=runtime.ROOT / "assets" / "classifier")
    assert not (tmp_path / "pickle_ran").exists()


@pytest.fixture()
def generator_folder(tmp_path):
    folder = tmp_path / "generator"
    shutil.copytree(ROOT / "assets" / "generator", folder)
    return folder


def test_a_generator_with_pickled_weights_or_a_broken_index_is_refused(generator_folder, tmp_path):
    from models.generator.sample import load_generator

    marker = tmp_path / "pickle_ran"
    unet = generator_folder / "unet"
    (unet / "diffusion_pytorch_model.safetensors").unlink()
    _pickle_to(unet / "diffusion_pytorch_model.bin", marker)
    with pytest.raises(ValueError, match="could not be loaded"):
        load_generator(generator_folder)
    assert not marker.exists()
    out = _run("models.generator.sample", "--model", str(generator_folder), "--n", "1", "--out", str(tmp_path / "o"))
    assert out.returncode == 2 and "could not be loaded" in out.stderr and "Traceback" not in out.stderr
    (generator_folder / "model_index.json").write_text('{"_class_name": "PhenoFacePipeline", ')
    with pytest.raises(ValueError, match="could not be loaded"):
        load_generator(generator_folder)
    assert not marker.exists()


def test_a_bad_init_checkpoint_for_training_is_refused_unread(model, tmp_path):
    from models.classifier.train import load_init_checkpoint

    marker = tmp_path / "pickle_ran"
    for name in ("init.safetensors", "init.pt"):
        _pickle_to(tmp_path / name, marker)
        with pytest.raises(ValueError, match="not a readable state dict"):
            load_init_checkpoint(model, tmp_path / name)
    assert not marker.exists()


GOOD_GENERATE = ["down", 5, "female", 3, "random", "random", 1.0, 1, 0, "frontal", "phenotype", "random"]


@pytest.mark.parametrize(
    ("slot", "value", "named"),
    [
        (8, float("nan"), "seed"),
        (8, float("inf"), "seed"),
        (1, "five", "age"),
        (1, float("nan"), "age"),
        (1, True, "age"),
        (7, None, "number of faces"),
        (7, True, "number of faces"),
        (3, "x", "skin tone"),
        (6, "high", "intensity"),
        (2, 5, "sex"),
        (4, 3, "eye colour"),
        (9, "top", "view"),
        (10, ["x"], "generator"),
        (11, 7, "ancestry"),
    ],
)
def test_a_wrong_typed_generate_value_gets_one_clear_sentence(server, slot, value, named):
    data = list(GOOD_GENERATE)
    data[slot] = value
    # sent as raw JSON, as curl would: NaN and Infinity are not JSON, but Python's parser (and Gradio) take them
    body = json.dumps({"data": data}, allow_nan=True)
    r = httpx.post(f"{server.url}/gradio_api/call/generate", content=body,
                   headers={"content-type": "application/json"}, timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text
    text = httpx.get(f"{server.url}/gradio_api/call/generate/{r.json()['event_id']}", timeout=300).text
    kind = "complete" if "event: complete" in text else "error"
    payload = next((json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")), None)
    assert kind == "error" and isinstance(payload, dict)
    message = payload.get("error") or ""
    assert named in message.lower() and "\n" not in message, payload  # not Gradio's {"error": null}


GOOD_QUIZ = ["Ann", "syndrome", ["down", "noonan"], False, 2, 2, 1.0, "dissimilar", "phenotype", 1, ""]
GOOD_EXPLAIN = ["draw", "down", 5, "female", 4, 0, None, "saliency", "predicted", True, "black", False]


@pytest.mark.parametrize(
    ("api", "good", "slot", "value", "named"),
    [
        ("quiz_start", GOOD_QUIZ, 1, 5, "quiz mode"),
        ("quiz_start", GOOD_QUIZ, 2, "down", "syndromes"),
        ("quiz_start", GOOD_QUIZ, 3, "yes", "without a syndrome"),
        ("quiz_start", GOOD_QUIZ, 4, "five", "number of questions"),
        ("quiz_start", GOOD_QUIZ, 4, None, "number of questions"),
        ("quiz_start", GOOD_QUIZ, 5, ["x"], "number of choices"),
        ("quiz_start", GOOD_QUIZ, 6, "high", "intensity"),
        ("quiz_start", GOOD_QUIZ, 7, None, "distractor"),
        ("quiz_start", GOOD_QUIZ, 8, 3, "generator"),
        ("quiz_start", GOOD_QUIZ, 9, ["x"], "seed"),
        ("quiz_start", GOOD_QUIZ, 10, 5, "quiz set code"),
        ("quiz_start", GOOD_QUIZ, 10, "K7QM2X", "--accounts"),  # a set code on a server without accounts
        ("average_portrait", [12], 0, "five", "number of children"),
        ("average_portrait", [12], 0, None, "number of children"),
        ("toggle_features", [["HP:0000316"]], 0, "HP:0000316", "list of hpo ids"),
        ("toggle_features", [["HP:0000316"]], 0, [3], "list of hpo ids"),
        # a new user's sweep: "five" crashed the drawing (a generic message), the others ran silently
        ("explain", GOOD_EXPLAIN, 2, "five", "age"),
        ("explain", GOOD_EXPLAIN, 3, None, "sex"),
        ("explain", GOOD_EXPLAIN, 9, "yes", "subtract the unaffected logit"),
        ("explain", GOOD_EXPLAIN, 10, "white", "baseline"),
        ("explain", GOOD_EXPLAIN, 11, None, "research mode"),
    ],
)
def test_a_wrong_typed_value_on_other_endpoints_gets_one_clear_sentence(server, api, good, slot, value, named):
    # a sweep of wrong-typed values found these endpoints answering with no message at all (Gradio's own
    # preprocessing failed before our checks) or running with the value silently
    data = list(good)
    data[slot] = value
    kind, payload = server.call(api, data)
    assert kind == "error" and isinstance(payload, dict), payload
    message = payload.get("error") or ""
    assert named in message.lower() and "\n" not in message, payload


def test_a_good_quiz_start_through_the_raw_api_still_starts_a_quiz(server):
    kind, out = server.call("quiz_start", GOOD_QUIZ)
    assert kind == "complete", out
