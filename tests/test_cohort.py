"""`python -m models.phenotype.cohort`: images, metadata.csv, counterfactuals, determinism."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from models import provenance  # noqa: E402
from models.phenotype import cohort  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# Two classes of two small children keep this quick; the catalogue-wide default is exercised by the benchmarks.
SMALL = ["--per-class", "2", "--seed", "5", "--size", "128", "--quiet"]


def two_classes() -> list[str]:
    return [cohort.UNAFFECTED, cohort.cohort_classes()[1]]


def test_writes_n_per_class_with_exact_columns(tmp_path):
    classes = two_classes()
    assert cohort.main(["--out", str(tmp_path), "--syndromes", ",".join(classes), *SMALL]) == 0
    with open(tmp_path / "metadata.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == cohort.COLUMNS
        rows = list(reader)
    assert [r["syndrome"] for r in rows] == [classes[0]] * 2 + [classes[1]] * 2
    assert [r["subject_id"] for r in rows] == [f"sim-5-{n}" for n in range(4)]
    for r in rows:
        assert (tmp_path / r["file"]).is_file()
        assert 0 <= float(r["age_years"]) <= 18 and 1 <= int(r["skin_tone"]) <= 10 and r["sex"] in ("female", "male")
        meta = provenance.read_png_metadata(tmp_path / r["file"])
        assert meta["synthetic"] == "true" and meta["subject_id"] == r["subject_id"]
        assert meta["hpo_present"] == r["hpo_terms"]
    assert rows[0]["omim"] == "" and rows[0]["hpo_terms"] == ""  # unaffected
    assert rows[2]["omim"].startswith("OMIM:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images", "metadata.csv"]  # no temporaries


def test_counterfactual_rows(tmp_path):
    classes = two_classes()
    assert cohort.main(["--out", str(tmp_path), "--syndromes", ",".join(classes), "--counterfactual", *SMALL]) == 0
    rows = cohort.read_metadata(tmp_path)
    assert len(rows) == 2 + 2 * 2  # unaffected children have no counterfactual
    syndromic = [r for r in rows if r["syndrome"] == classes[1]]
    for child, cf in zip(syndromic[::2], syndromic[1::2], strict=True):
        assert cf["subject_id"] == child["subject_id"] and cf["file"].endswith("_i0.png")
        assert cf["intensity"] == 0.0 and cf["hpo_terms"] == [] and child["intensity"] == 1.0
        assert (cf["age_years"], cf["sex"], cf["skin_tone"]) == (child["age_years"], child["sex"], child["skin_tone"])


def test_rewriting_a_folder_removes_the_old_cohorts_images_only(tmp_path):
    classes = ",".join(two_classes())
    assert cohort.main(["--out", str(tmp_path), "--syndromes", classes, "--counterfactual", *SMALL]) == 0
    old = {r["file"] for r in cohort.read_metadata(tmp_path)}
    mine = tmp_path / "images" / "notes.png"  # not listed by any cohort: must survive
    mine.write_bytes(b"user's own file")
    small = [a if a != "2" else "1" for a in SMALL]  # one child per class, no counterfactuals
    assert cohort.main(["--out", str(tmp_path), "--syndromes", classes, *small]) == 0
    new = {r["file"] for r in cohort.read_metadata(tmp_path)}
    assert len(new) == 2 and new < old
    on_disk = {f"images/{p.name}" for p in (tmp_path / "images").iterdir()}
    assert on_disk == new | {"images/notes.png"}


def test_same_seed_same_bytes_across_processes(tmp_path):
    args = ["--syndromes", ",".join(two_classes()), "--ages", "2-4", *SMALL]
    a, b = tmp_path / "a", tmp_path / "b"
    assert cohort.main(["--out", str(a), *args]) == 0
    r = subprocess.run(
        [sys.executable, "-m", "models.phenotype.cohort", "--out", str(b), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    differ = [str(f) for f in files if (a / f).read_bytes() != (b / f).read_bytes()]
    assert not differ, f"same arguments, different bytes: {differ}"
    assert all(2 <= r["age_years"] <= 4 for r in cohort.read_metadata(a))


def test_failure_midway_writes_no_metadata(tmp_path, monkeypatch):
    calls = []
    real_render = cohort.synthesizer.render

    def flaky(spec):
        calls.append(spec)
        if len(calls) == 3:
            raise RuntimeError("renderer crashed")
        return real_render(spec)

    monkeypatch.setattr(cohort.synthesizer, "render", flaky)
    with pytest.raises(RuntimeError):
        cohort.main(["--out", str(tmp_path), "--syndromes", ",".join(two_classes()), *SMALL])
    assert not (tmp_path / "metadata.csv").exists()
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]  # no temporaries


def test_bad_arguments_exit_2_and_create_nothing(tmp_path, capsys):
    out = tmp_path / "cohort"
    assert cohort.main(["--out", str(out), "--syndromes", "no_such_syndrome", *SMALL]) == 2
    assert cohort.main(["--out", str(out), "--size", "9999", "--per-class", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)
    assert not out.exists()


def test_read_metadata_accepts_real_data_with_empty_columns(tmp_path):
    (tmp_path / "metadata.csv").write_text(
        "file,subject_id,syndrome,omim,orpha,age_years,sex,skin_tone,intensity,hpo_terms\n"
        "img/p1.jpg,pt-1,williams_beuren,OMIM:194050,,,female,,,\n"
    )
    (row,) = cohort.read_metadata(tmp_path)
    assert row["path"] == (tmp_path / "img/p1.jpg").resolve()
    assert row["age_years"] is None and row["skin_tone"] is None and row["intensity"] is None
    assert row["hpo_terms"] == [] and row["omim"] == ["OMIM:194050"] and row["sex"] == "female"


def test_read_metadata_rejects_files_without_labels(tmp_path):
    (tmp_path / "metadata.csv").write_text("file,age_years\na.png,3\n")
    with pytest.raises(ValueError, match="subject_id"):
        cohort.read_metadata(tmp_path)
