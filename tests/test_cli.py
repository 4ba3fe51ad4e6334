"""`python -m models.phenotype.draw`: files written, metadata, JSON, and clean failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models import provenance  # noqa: E402
from models.phenotype import draw as draw_cli
from models.phenotype.morphology import FEATURES  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SMALL = ["--size", "128", "--age", "6", "--seed", "3"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "models.phenotype.draw", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def test_writes_a_marked_png_with_metadata(tmp_path):
    out = tmp_path / "face.png"
    r = run_cli("--syndrome", "unaffected", *SMALL, "--skin-tone", "7", "--out", str(out))
    assert r.returncode == 0, r.stderr
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape == (128, 128, 3)
    meta = provenance.read_png_metadata(out)
    assert meta["synthetic"] == "true" and meta["notice"] == provenance.NOTICE
    assert meta["seed"] == "3" and meta["hpo_release"]
    spec = json.loads(meta["spec"])
    assert spec["syndrome"] == "unaffected" and spec["skin_tone"] == 7 and spec["size"] == 128
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.png"]  # no temporaries, no JSON unasked


def test_no_mark_differs_only_in_the_corner(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert run_cli(*SMALL, "--out", str(a)).returncode == 0
    assert run_cli(*SMALL, "--out", str(b), "--no-mark").returncode == 0
    ia, ib = (np.asarray(Image.open(p).convert("RGB")) for p in (a, b))
    ys, xs = np.nonzero(np.any(ia != ib, axis=2))
    assert len(ys) > 0 and ys.min() > 100 and xs.min() > 64
    assert provenance.read_png_metadata(b)["synthetic"] == "true"


def test_json_sidecar(tmp_path):
    out = tmp_path / "face.png"
    r = run_cli("--syndrome", "unaffected", "--features", "HP:0000316", *SMALL, "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["synthetic"] is True and record["file"] == "face.png"
    assert record["spec"]["features"] == ["HP:0000316"] and record["spec"]["syndrome"] == "unaffected"
    assert {"id": "HP:0000316", "name": FEATURES["HP:0000316"].name} in record["hpo_realised"]
    assert all(set(t) == {"id", "name"} for t in record["hpo_present"])
    assert record["landmarks"] and all(
        len(xy) == 2 and 0 <= xy[0] <= 128 and 0 <= xy[1] <= 128 for xy in record["landmarks"].values()
    )
    assert record["measurements"]["interpupillary"] > 0  # hypertelorism widens the IPD


def test_same_arguments_same_bytes(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert run_cli("--syndrome", "unaffected", *SMALL, "--out", str(a)).returncode == 0
    assert run_cli("--syndrome", "unaffected", *SMALL, "--out", str(b)).returncode == 0
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize(
    "args",
    [
        ["--syndrome", "no_such_syndrome"],
        ["--features", "HP:9999999"],
        ["--features", "hypertelorism"],
        ["--age", "19"],
        ["--age", "nan"],
        ["--size", "64"],
        ["--skin-tone", "11"],
        ["--intensity", "3"],
        ["--sex", "other"],
    ],
)
def test_bad_arguments_exit_2_with_one_line_and_no_file(tmp_path, args):
    out = tmp_path / "face.png"
    r = run_cli(*args, "--out", str(out), "--json")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert list(tmp_path.iterdir()) == []


def test_missing_output_folder_exits_2(tmp_path):
    r = run_cli(*SMALL, "--out", str(tmp_path / "missing" / "face.png"))
    assert r.returncode == 2 and r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_list_names_every_syndrome_and_drawable_term_without_out():
    from models.phenotype.catalog import load_catalog

    syndromes = run_cli("--list", "syndromes")
    assert syndromes.returncode == 0, syndromes.stderr
    lines = syndromes.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(load_catalog().keys())
    assert any("Williams-Beuren syndrome" in line and "OMIM:194050" in line for line in lines)
    features = run_cli("--list", "features")
    assert features.returncode == 0
    assert {line.split()[0] for line in features.stdout.splitlines()} == set(FEATURES)
    bad = run_cli("--list", "genes")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_help_explains_every_flag():
    r = run_cli("--help")
    assert r.returncode == 0
    for action in draw_cli.build_parser()._actions:
        assert action.help, f"{action.option_strings} has no help"


@pytest.mark.parametrize(
    ("module", "args", "message"),
    [
        ("benchmarks.speed", ["--n", "x"], "argument --n: 'x' is not a whole number"),
        ("benchmarks.detection", ["--n", "-3"], "argument --n: -3 is out of range: must be at least 1"),
        ("benchmarks.generator_quality", ["--guidance", "-1"], "must be at least 0.0"),
        ("benchmarks.generator_quality", ["--model", "/nonexistent"], "error: /nonexistent is not a generator folder"),
        ("benchmarks.saliency_speed", ["--model", "/nonexistent"], "not a classifier folder"),
        ("benchmarks.profile_check", ["--pairs", "0"], "argument --pairs: 0 is out of range: must be at least 1"),
        ("benchmarks.speed3d", ["--n", "1"], "argument --n: 1 is out of range: must be at least 2"),
    ],
)
def test_benchmarks_refuse_bad_arguments_in_one_line(module, args, message, capsys):
    import importlib

    from benchmarks.common import run_benchmark

    main = importlib.import_module(module).main
    try:
        code = run_benchmark(lambda: main(args))
    except SystemExit as e:  # argparse's own refusal
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
