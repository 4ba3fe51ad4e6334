"""The README's headline figures and docs/classifier.md's backbone table, generated from the committed result files
so that they cannot drift.

    python -m benchmarks.figures            # print the table
    python -m benchmarks.figures --write    # replace the tables between the markers (README, docs/classifier.md)
    python -m benchmarks.figures --check    # exit 1 if either differs (a test runs this)

Each row links to the JSON (or CSV) it was read from; to change a figure, rerun the benchmark with
``--json`` into ``benchmarks/results/`` (or retrain and re-evaluate the model), then ``--write``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START, END = "<!-- figures:start (python -m benchmarks.figures --write) -->", "<!-- figures:end -->"

SOURCES = {
    "speed": "benchmarks/results/speed.json",
    "detection": "benchmarks/results/detection.json",
    "phenotype": "benchmarks/results/phenotype_check.json",
    "classifier": "assets/classifier/eval_test_metrics.json",
    "oracle": "assets/classifier/oracle_test_metrics.json",
    "saliency": "benchmarks/results/saliency_speed.json",
    "generator": "assets/generator/quality.json",
    "experiment": "assets/experiments/paper/results.csv",
    "judge": "assets/experiments/paper/synthetic_check.json",
    "load": "benchmarks/results/load.json",
    "latency": "benchmarks/results/latency.json",
    "class_load": "benchmarks/results/class_load.json",
    "speed3d": "benchmarks/results/speed3d.json",
    "detection3d": "benchmarks/results/detection_3d.json",
    "phenotype3d": "benchmarks/results/phenotype_check_3d.json",
    "profile3d": "benchmarks/results/profile_check_3d.json",
    "realism3d": "benchmarks/results/realism_3d.json",
    "realism2d": "benchmarks/results/realism_2d.json",
}


def _json(key: str) -> dict:
    return json.loads((ROOT / SOURCES[key]).read_text(encoding="utf-8"))


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f} %"


def _link(key: str) -> str:
    return f"[{Path(SOURCES[key]).name}]({SOURCES[key]})"


def rows() -> list[tuple[str, str, str]]:
    """(what, figure, source link) for every headline figure."""
    out = []
    s = _json("speed")
    out.append(
        ("Phenotype engine speed", f"{s['renders_per_s']:g} renders per second at {s['size_px']} px, one process "
         f"(median {s['median_ms']:g} ms; target {s['target_per_s']:g})", _link("speed"))
    )  # fmt: skip
    d = _json("detection")
    mp, haar = d["detectors"]["mediapipe_short"], d["detectors"]["haar"]
    worst = min(haar["by_skin_tone"].items(), key=lambda kv: kv[1]["rate"])
    out.append(
        ("Faces found in random renders", f"MediaPipe {mp['found']} of {mp['n']} ({_pct(mp['rate'])}); OpenCV Haar "
         f"{_pct(haar['rate'])}, lowest at Monk tone {worst[0]}: {_pct(worst[1]['rate'], 0)}", _link("detection"))
    )  # fmt: skip
    p = _json("phenotype")
    weakest = min(p["features"], key=lambda f: f["moved"])
    out.append(
        ("Features drawn as defined (Face Mesh on the image)", f"all {len(p['features'])} frontal features move the "
         f"defined way in at least {_pct(weakest['moved'])} of {p['pairs']} pairs (weakest: {weakest['name']}; "
         f"target {_pct(p['target'], 0)})", _link("phenotype"))
    )  # fmt: skip
    out += rows_3d()
    c = _json("classifier")["overall"]
    ceiling = _json("oracle")["overall"]["per_syndrome_top1"]
    lo, hi = c["per_syndrome_top1_ci"]
    share = _pct(c["per_syndrome_top1"] / ceiling)
    out.append(
        ("Classifier (resnet18, trained only on synthetic 3D children) on new identities",
         f"per-syndrome top-1 {c['per_syndrome_top1']:.3f} [{lo:.3f}-{hi:.3f}] ({share} "
         f"of the HPO-term oracle's {ceiling:.3f}), top-5 {c['per_syndrome_top5']:.3f}, ECE {c['ece']:.3f} after "
         f"temperature scaling ({c['n']:,} children)",
         _link("classifier"))
    )  # fmt: skip
    a = _json("saliency")
    ig, inf = a["app_maps_s"]["integrated_gradients"], a["inference_batch1_ms"]
    out.append(
        ("Saliency and classification time", f"Integrated Gradients map at the app's settings {ig:.2f} s; one "
         f"classification {inf['float32']:.1f} ms as the app runs it, eager float32 ({a['threads']} threads)",
         _link("saliency"))
    )  # fmt: skip
    ld = _json("load")
    out.append(
        ("Waiting under load", f"{ld['users']} users at once, {ld['requests_per_user']} Generate requests each "
         f"({ld.get('faces_per_request', 2)} faces and their pairs, {_engine(ld.get('generator', 'phenotype'))}): "
         f"median wait {ld['median_wait_s']:g} s, 95th percentile {ld['p95_wait_s']:g} s, {ld['failed']} failed",
         _link("load"))
    )  # fmt: skip
    lt = _json("latency")
    alone, loaded = lt["alone"], lt["under_load"]
    from models.faces import APP_ENGINE

    # a run from before the quiz and Explain moved to another engine says so rather than pass for current
    stale = (
        ""
        if lt.get("app_engine", "phenotype") == APP_ENGINE
        else (
            f" (measured on {lt['date']} while the quiz and Explain drew {lt.get('app_engine', 'phenotype')} faces; "
            f"they now draw {APP_ENGINE} faces: not yet re-measured)"
        )
    )

    def p50_p95(table: dict, name: str) -> str:
        return f"{table[name]['p50_s']:.2f}/{table[name]['p95_s']:.2f} s"

    maps = ", ".join(f"{m.removeprefix('explain_').replace('_', ' ')} {alone[m]['p50_s']:.2f} s"
                     for m in alone if m.startswith("explain_"))  # fmt: skip
    out.append(
        ("Waiting for each action (p50/p95)", f"first answer {lt['first_answer_s']:g} s after the server is ready; "
         f"alone: Generate 1 face {p50_p95(alone, 'generate_1')}, 4 faces {p50_p95(alone, 'generate_4')} "
         f"({_engine(lt['app_engine'])}, the tab's default), 1 face of the 2.5D model "
         f"{p50_p95(alone, 'generate_2d_1')}, age strip {p50_p95(alone, 'age_strip')}, average portrait "
         f"{p50_p95(alone, 'average_portrait')}, quiz answer {p50_p95(alone, 'quiz_answer')}, its saliency map "
         f"{p50_p95(alone, 'quiz_map')}, next {p50_p95(alone, 'quiz_next')}; Explain p50: {maps}; "
         f"{lt['users']} users at once: Generate {p50_p95(loaded, 'generate_1')}, quiz answer "
         f"{p50_p95(loaded, 'quiz_answer')}, its map {p50_p95(loaded, 'quiz_map')}, {lt['failed_under_load']} "
         f"failed{stale}", _link("latency"))
    )  # fmt: skip
    cl = _json("class_load")
    out.append(
        ("A class answering at once (--accounts server)", f"{cl['learners']} learners x {cl['questions']} answers on "
         f"{cl['backend']}: {cl['answers_confirmed']} confirmed, {cl['answers_stored']} stored, {cl['answers_lost']} "
         f"lost; quiz start p50/p95 {cl['start_p50_s']:.1f}/{cl['start_p95_s']:.1f} s, answer (with its saliency "
         f"map) {cl['answer_p50_s']:.1f}/{cl['answer_p95_s']:.1f} s", _link("class_load"))
    )  # fmt: skip
    g = _json("generator")
    per_image = sum(k["sample_s"] for k in g["classes"]) / len(g["classes"])
    out.append(
        ("Learned generator", f"{_judge(g)} names the conditioned syndrome for {_pct(g['mean_generated_top1'])} of "
         f"{g['per_class']} samples per class; faces found {_pct(g['detected'], 0)}; {g['audit']['flagged']} of "
         f"{g['audit']['n']:,} samples flagged as near-copies; {per_image:.2f} s per image ({g['steps']} steps, "
         f"{g['per_class']} at a time)", _link("generator"))
    )  # fmt: skip
    cells: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    with open(ROOT / SOURCES["experiment"], newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["backbone"] == "resnet18":
                cells[(r["arm"], r["synthetic_per_class"])].append(float(r["test_top1"]))
    mean = {k: sum(v) / len(v) for k, v in cells.items()}
    real = next(v for (arm, _), v in mean.items() if arm == "real_only")
    (_, scale), best = max(((k, v) for k, v in mean.items() if k[0] == "synthetic_only"), key=lambda kv: kv[1])
    out.append(
        ("Synthetic-only versus real-only (resnet18, simulated real data)", f"test top-1 {real:.3f} real-only against "
         f"{best:.3f} at best synthetic-only ({scale} per class); the generator drew the intended syndrome for "
         f"{_pct(_json('judge')['mean_top1'])} of its samples", _link("experiment"))
    )  # fmt: skip
    return out


def _passing(result: dict, what: str, target: float = 0.95) -> str:
    """'n of m <what> move the defined way in at least x % of N pairs; below the target: a (y %), ...'."""
    features = result["features"]
    good = [f for f in features if f["moved"] >= target]
    text = f"{len(good)} of {len(features)} {what} move the defined way in at least "
    text += f"{_pct(min(f['moved'] for f in good))} of {result['pairs']} pairs" if good else "no feature"
    below = [f for f in features if f["moved"] < target]
    if below:
        text += f"; below the {_pct(target, 0)} target: " + ", ".join(
            f"{f['name']} ({_pct(f['moved'])})" for f in below
        )
    return text


def rows_3d() -> list[tuple[str, str, str]]:
    """The 3D engine's figures (it is not yet the app's engine; the phenotype-engine issue)."""
    out = []
    s = _json("speed3d")
    out.append(
        ("3D engine speed (in progress)", f"{s['full_samples_per_s']:g} children per second at {s['size_px']} px with "
         f"hair, masks and landmarks ({s['portraits_per_s']:g} portraits per second rasterised alone; target "
         f"{s['target_per_s']:g}); cold start {s['cold_start_s']:g} s", _link("speed3d"))
    )  # fmt: skip
    d = _json("detection3d")
    mp, haar = d["detectors"]["mediapipe_short"], d["detectors"]["haar"]
    worst = d["haar_weakest_monk_band"]
    out.append(
        ("3D engine: faces found", f"MediaPipe {mp['found']} of {mp['n']} ({_pct(mp['rate'])}); OpenCV Haar "
         f"{_pct(haar['rate'])}, lowest at Monk tone {worst['tone']}: {_pct(worst['rate'], 0)} (target 97 % in "
         "every band)", _link("detection3d"))
    )  # fmt: skip
    out.append(("3D engine: features drawn as defined", _passing(_json("phenotype3d"), "frontal features (Face Mesh)"),
                _link("phenotype3d")))  # fmt: skip
    profile = _json("profile3d")
    ears = [f for f in profile["features"] if f.get("measure") == "ear mask"]
    if ears:
        what = "features (jaw, forehead, midface, nasal bridge on the silhouette; ears on the ear mask)"
        tail = f" (the ears: {' and '.join(str(f['pairs']) for f in ears)} pairs where the hair leaves them in view)"
    else:
        what, tail = "features (jaw, forehead, midface, nasal bridge)", "; ears not yet measured"
    out.append(("3D engine: features judged in profile", _passing(profile, what) + tail, _link("profile3d")))
    r3, r2 = _json("realism3d"), _json("realism2d")

    def judged(r: dict) -> str:
        return (f"different children apart {_pct(r['different_children_random']['apart'], 0)} (hardest set "
                f"{_pct(r['different_children_hardest']['apart'], 0)}), age Spearman {r['age']['spearman']:.2f}, "
                f"0-2 years read as {r['age']['mean_estimate_0_2_years']:g} y, sex "
                f"{_pct(r['sex_10_plus']['accuracy'], 0)} at 10+")  # fmt: skip

    out.append(
        ("Realism, judged by dlib and face-api (trained on photographs)", f"3D: {judged(r3)}; 2.5D: {judged(r2)}; "
         "targets 90 %, 0.8, under 4 y, 80 %", _link("realism3d"))
    )  # fmt: skip
    return out


def _judge(quality: dict) -> str:
    """Which classifier judged a generator quality file: the reference renders' engine names its training cohort."""
    if quality.get("renders_engine") == "phenotype_3d":
        return "the shipped classifier (trained on the 3D children)"
    return "the 2.5D-trained classifier of its day"


def _engine(key: str) -> str:
    """A phenotype engine's key in words."""
    return {"phenotype_3d": "the 3D child", "phenotype": "the 2.5D model"}.get(key, key)


def table() -> str:
    """The Markdown table, between its markers."""
    lines = ["| what | figure | source |", "|---|---|---|"]
    lines += [f"| {what} | {figure} | {source} |" for what, figure, source in rows()]
    return "\n".join([START, *lines, END])


def _replace(text: str, new: str) -> str:
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README.md has no figures block ({START} ... {END})")
    return text[:start] + new + text[end + len(END) :]


CLASSIFIER_DOC = ROOT / "docs" / "classifier.md"
BACKBONES_START = "<!-- backbones:start (python -m benchmarks.figures --write) -->"
BACKBONES_END = "<!-- backbones:end -->"
_SUBGROUPS = {"by_skin_tone": "", "by_age_band": " years", "by_ancestry": "", "by_sex": ""}


def _weakest(metrics: dict) -> str:
    """The subgroup furthest below the overall top-1, as 'MST 8-10: 0.868 (2.9 points)'."""
    overall = metrics["overall"]["top1"]
    name, group = min(
        ((f"{k}{unit}", g) for by, unit in _SUBGROUPS.items() for k, g in metrics.get(by, {}).items()),
        key=lambda kv: kv[1]["top1"],
    )
    return f"{name}: {group['top1']:.3f} ({100 * (overall - group['top1']):.1f} points)"


def backbone_table() -> str:
    """docs/classifier.md's table of every backbone evaluated on the shipped classifier's test cohort, from the
    committed evaluations (`assets/classifier` and `assets/classifier/backbones/*`), between its markers."""
    shipped = json.loads((ROOT / "assets/classifier/eval_test_metrics.json").read_text(encoding="utf-8"))
    oracle = json.loads((ROOT / "assets/classifier/oracle_test_metrics.json").read_text(encoding="utf-8"))
    ceiling = oracle["overall"]["per_syndrome_top1"]
    folders = [("resnet18 (shipped)", ROOT / "assets/classifier")] + [
        (p.name, p) for p in sorted((ROOT / "assets/classifier/backbones").iterdir())
        if (p / "eval_test_metrics.json").is_file()
    ]  # fmt: skip
    lines = [
        f"| backbone | per-syndrome top-1 [95 % CI] | top-5 | top-10 | ECE | share of the oracle's top-1 "
        f"({ceiling:.3f}) | weakest subgroup (below the overall top-1) |",
        "|---|---|---|---|---|---|---|",
    ]
    elsewhere = []
    for name, folder in folders:
        m = json.loads((folder / "eval_test_metrics.json").read_text(encoding="utf-8"))
        if m["data"] != shipped["data"]:
            elsewhere.append(name)
            continue
        o = m["overall"]
        lo, hi = o["per_syndrome_top1_ci"]
        lines.append(
            f"| {name} | {o['per_syndrome_top1']:.3f} [{lo:.2f}-{hi:.2f}] | {o['per_syndrome_top5']:.3f} | "
            f"{o['per_syndrome_top10']:.3f} | {o['ece']:.3f} | {_pct(o['per_syndrome_top1'] / ceiling)} | "
            f"{_weakest(m)} |"
        )
    lines.append("")
    lines.append(f"Test cohort: `{shipped['data']}` ({shipped['overall']['n']:,} children)." + (
        f" Not yet evaluated on it: {', '.join(elsewhere)}." if elsewhere else ""))  # fmt: skip
    return "\n".join([BACKBONES_START, *lines, BACKBONES_END])


def _replace_block(text: str, new: str, start_marker: str, end_marker: str, where: str) -> str:
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < start:
        raise ValueError(f"{where} has no block {start_marker} ... {end_marker}")
    return text[:start] + new + text[end + len(end_marker) :]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.figures", description=__doc__.split("\n\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="replace the table in README.md")
    mode.add_argument("--check", action="store_true", help="exit 1 if README.md's table differs from the results")
    args = p.parse_args(argv)
    new = table()
    if not (args.write or args.check):
        print(new)
        return 0
    documents = {
        README: _replace(README.read_text(encoding="utf-8"), new),
        CLASSIFIER_DOC: _replace_block(CLASSIFIER_DOC.read_text(encoding="utf-8"), backbone_table(),
                                       BACKBONES_START, BACKBONES_END, "docs/classifier.md"),
    }  # fmt: skip
    stale = [path for path, updated in documents.items() if updated != path.read_text(encoding="utf-8")]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)}'s figures differ from the result files: run python -m benchmarks.figures "
                  "--write")  # fmt: skip
        return 1 if stale else 0
    for path in stale:
        path.write_text(documents[path], encoding="utf-8")
    print("figures written: " + (", ".join(str(p.relative_to(ROOT)) for p in stale) or "none changed"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
