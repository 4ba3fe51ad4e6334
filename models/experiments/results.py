"""Results of the synthetic-versus-real protocol: the per-run CSV, the mean +- SD Markdown table and the plot
of test top-1 against synthetic images per class, one panel per backbone, with the real-only level as a line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.experiments.presets import FACE_PRIOR, Preset
from models.files import atomic_output
from models.hardware import describe


def prior_of(record: dict[str, Any]) -> str:
    """The generator prior of a record's synthetic arm ("-" for real-only; the face prior for records
    written before there were two)."""
    if record["arm"] == "real_only":
        return "-"
    return record.get("prior") or FACE_PRIOR


def summarise(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and SD over seeds of the test metrics, per backbone, arm, generator prior and scale."""
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        groups.setdefault((r["backbone"], r["arm"], prior_of(r), r["synthetic_per_class"]), []).append(r)
    order = {"real_only": 0, "synthetic_only": 1, "real_plus_synthetic": 2}
    rows = []
    for (backbone, arm, prior, scale), rs in sorted(
        groups.items(), key=lambda kv: (kv[0][0], order[kv[0][1]], kv[0][2], kv[0][3])
    ):
        row = {"backbone": backbone, "arm": arm, "prior": prior, "synthetic_per_class": scale, "seeds": len(rs)}
        for m in ("top1", "top5", "top10", "balanced_accuracy"):
            v = np.array([r["test"][m] for r in rs])
            row[f"{m}_mean"], row[f"{m}_sd"] = float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0
        rows.append(row)
    return rows


TIMINGS = "timings.json"


def add_time(out: Path, stage: str, seconds: float) -> None:
    """Add `seconds` to `stage` in ``out/timings.json`` (stage -> wall seconds, summed over invocations).

    A stage that was already complete adds only the moment it took to find that out, so the sums
    are the compute time of the whole run even when it spans several sessions.
    """
    path = out / TIMINGS
    timings = json.loads(path.read_text()) if path.is_file() else {}
    timings[stage] = round(timings.get(stage, 0.0) + seconds, 1)
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(timings, indent=1) + "\n")


def compute_line(records: Sequence[dict[str, Any]], out: Path) -> str:
    """The run's compute time over all its invocations: stages from ``timings.json`` (`add_time`),
    classifier runs from each cell's own ``wall_s``."""
    path = out / TIMINGS
    timings = json.loads(path.read_text()) if path.is_file() else {}
    cells = sum(float(r["wall_s"]) for r in records)
    parts = [f"{k} {v / 60:.0f} min" for k, v in timings.items()]
    parts.append(f"{len(records)} classifier runs {cells / 60:.0f} min")
    total = sum(timings.values()) + cells
    missing = {"data", "generator", "sampling"} - set(timings)
    note = f" ({', '.join(sorted(missing))} not recorded)" if missing else ""
    total_text = f"{total / 3600:.1f} h" if total >= 3600 else f"{total / 60:.0f} min"
    return f"Compute time, summed over invocations: {', '.join(parts)}; in all {total_text}{note}."


PRIOR_COLOURS = {"unaffected": "#0072B2", "features": "#CC79A7"}
PRIOR_WORDS = {"unaffected": "face prior (unaffected children)", "features": "feature prior (features, no syndromes)"}


def verdicts(summary: Sequence[dict[str, Any]], checks: dict[str, dict[str, Any] | None]) -> list[str]:
    """One sentence per generator prior: does synthetic-only training reach the real-only baseline, does
    adding the samples to the real images help, and does the judge see the syndromes in the samples."""
    out = []
    real = {s["backbone"]: s["top1_mean"] for s in summary if s["arm"] == "real_only"}
    for prior in sorted({s["prior"] for s in summary if s["prior"] != "-"}):
        best = {}
        for s in summary:
            if s["prior"] == prior and s["arm"] == "synthetic_only":
                best[s["backbone"]] = max(best.get(s["backbone"], 0.0), s["top1_mean"])
        mixed = {
            s["backbone"]: s["top1_mean"] for s in summary if s["prior"] == prior and s["arm"] == "real_plus_synthetic"
        }
        backbones = sorted(set(best) & set(real))
        if not backbones:
            continue
        reached = [b for b in backbones if best[b] >= real[b]]
        helped = [b for b in backbones if b in mixed and mixed[b] > real[b]]
        reach = "reaches" if reached else "does not reach"
        sentence = (
            f"With the {PRIOR_WORDS.get(prior, prior)}, synthetic-only training {reach} the real-only baseline "
            f"for {len(reached) or 'any'} of {len(backbones)} backbones (best synthetic-only top-1 "
            f"{min(best[b] for b in backbones):.3f}-{max(best[b] for b in backbones):.3f} against real-only "
            f"{min(real[b] for b in backbones):.3f}-{max(real[b] for b in backbones):.3f}), and adding its samples "
            f"to the real images raises top-1 for {len(helped)} of {len(backbones)} backbones"
        )
        check = checks.get(prior)
        if check is not None:
            sentence += (
                f"; the judge names the intended syndrome for {check['mean_top1']:.1%} of its samples "
                f"(chance {check['chance']:.1%})"
            )
        out.append(sentence + ".")
    return out


def write_results(
    records,
    preset: Preset,
    out: Path,
    wall_s: float,
    real_data: Path | None,
    checks: dict[str, dict[str, Any] | None] | None = None,
) -> None:
    """results.csv (every run), results.md (mean +- SD table, one verdict per generator prior, and the judge's
    check of each prior's samples: `models.experiments.synthetic.judge_synthetic`) and accuracy_vs_scale.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    checks = checks or {}
    with atomic_output(out / "results.csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["backbone", "arm", "prior", "synthetic_per_class", "seed", "train_images", "steps", "test_top1",
                    "test_top5", "test_top10", "test_balanced_accuracy", "val_top1", "wall_s"])  # fmt: skip
        for r in records:
            t = r["test"]
            w.writerow([r["backbone"], r["arm"], prior_of(r), r["synthetic_per_class"], r["seed"], r["train_images"],
                        r["steps"], f"{t['top1']:.4f}", f"{t['top5']:.4f}", f"{t['top10']:.4f}",
                        f"{t['balanced_accuracy']:.4f}", f"{r['val']['top1']:.4f}", r["wall_s"]])  # fmt: skip
    summary = summarise(records)
    lines = [
        f"# Synthetic-only versus real-only: preset `{preset.name}`",
        "",
        f"Data: {'real photographs from ' + str(real_data) if real_data else f'simulated cohorts ({preset.engine})'}; "
        f"{preset.real_train_per_class} real training children per class, {preset.resolution} px aligned crops, "
        f"{preset.steps} optimiser steps of batch {preset.batch} per run, seeds {list(preset.seeds)}; the real "
        "plus synthetic arm draws half of each batch from each.",
        f"Hardware: {describe()}, {torch.get_num_threads()} torch threads; wall time {wall_s / 60:.1f} min "
        "(this invocation; finished cells of earlier invocations are reused).",
        compute_line(records, out),
        "",
        *verdicts(summary, checks),
        "",
        "Test accuracy, per-syndrome mean, mean +- SD over seeds:",
        "",
        "| backbone | arm | generator prior | synthetic / class | top-1 | top-5 | top-10 | balanced acc. |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        cells = [
            f"{s[m + '_mean']:.3f}" + (f" +- {s[m + '_sd']:.3f}" if s["seeds"] > 1 else "")
            for m in ("top1", "top5", "top10", "balanced_accuracy")
        ]
        lines.append(
            f"| {s['backbone']} | {s['arm']} | {s['prior']} | {s['synthetic_per_class'] or '-'} | "
            + " | ".join(cells)
            + " |"
        )
    for prior, check in checks.items():
        if check is None:
            continue
        best = sorted(check["per_class"].items(), key=lambda kv: -kv[1])[:3]
        lines += [
            "",
            f"Do the {PRIOR_WORDS.get(prior, prior)}'s samples show their syndrome? A classifier trained on "
            f"full-size renders (`{Path(check['judge']).name}`) names the intended class for {check['mean_top1']:.1%} "
            f"of them (mean over classes; chance {check['chance']:.1%}; best: "
            + ", ".join(f"{c} {v:.0%}" for c, v in best)
            + ").",
        ]
    lines += ["", "On simulated 'real' data this tests the pipeline and the protocol, not the clinical claim.", ""]
    (out / "results.md").write_text("\n".join(lines), encoding="utf-8")

    backbones = sorted({s["backbone"] for s in summary})
    priors = sorted({s["prior"] for s in summary if s["prior"] != "-"})
    fig, axes = plt.subplots(1, len(backbones), figsize=(3.6 * len(backbones), 3.4), squeeze=False, sharey=True)
    for ax, bb in zip(axes[0], backbones, strict=True):
        for prior in priors:
            colour = PRIOR_COLOURS.get(prior, "#0072B2")
            syn = [s for s in summary if s["backbone"] == bb and s["arm"] == "synthetic_only" and s["prior"] == prior]
            x = [s["synthetic_per_class"] for s in syn]
            ax.errorbar(x, [s["top1_mean"] for s in syn], yerr=[s["top1_sd"] for s in syn], marker="o",
                        color=colour, capsize=3, label=f"synthetic only, {prior} prior")  # fmt: skip
            for s in summary:
                if s["backbone"] == bb and s["arm"] == "real_plus_synthetic" and s["prior"] == prior:
                    ax.plot([s["synthetic_per_class"]], [s["top1_mean"]], marker="*", markersize=12, color=colour,
                            linestyle="none", label=f"real + synthetic, {prior} prior")  # fmt: skip
        for s in summary:
            if s["backbone"] == bb and s["arm"] == "real_only":
                ax.axhline(s["top1_mean"], color="#D55E00", linestyle="--", label="real only")
        chance = next((c["chance"] for c in checks.values() if c is not None), None)
        if chance is not None:  # the floor every arm must clear
            ax.axhline(chance, color="#999999", linestyle=":", label="chance")
        ax.set_xscale("log")
        ax.set_title(bb, fontsize=10)
        ax.set_xlabel("synthetic images per class")
    axes[0][0].set_ylabel("test top-1 (per-syndrome mean)")
    axes[0][0].legend(fontsize=6)
    fig.suptitle(f"Synthetic-only vs real-only training ({preset.name} preset)", fontsize=11)
    fig.tight_layout()
    fig.savefig(out / "accuracy_vs_scale.png.tmp.png", dpi=110)
    plt.close(fig)
    (out / "accuracy_vs_scale.png.tmp.png").replace(out / "accuracy_vs_scale.png")
