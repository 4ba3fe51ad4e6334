"""The privacy audit's report: per-sample CSV, Markdown summary and histograms against the calibration pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.files import atomic_output
from models.generator.privacy_index import Thresholds

#: Below this many samples each is drawn as a line rather than as a histogram.
FEW_SAMPLES = 30
SAMPLE_COLOUR = "#0072B2"
CALIBRATION_SERIES = (("same", "#D55E00", "same child re-drawn"), ("different", "#009E73", "different children"))


def write_report(
    result: dict[str, np.ndarray],
    names: list[str],
    train_names: list[str],
    t: Thresholds,
    out: Path,
    calibration: dict | None = None,
) -> Path:
    """Write ``audit.csv``, ``audit.md`` and ``audit_hist.png`` into `out`; returns the Markdown path.

    Args:
        result: `models.generator.audit.audit`'s arrays, one entry per generated sample.
        names: the generated samples' file names; train_names: the training images' names.
        t: the flag thresholds drawn on the histograms.
        out: report folder (created if missing).
        calibration: same-child and different-child pair measures from `calibrate`, drawn beside the samples'.

    Each file is written to a temporary name and moved into place, so a failed run leaves no half-written report.

    Raises:
        OSError: `out` cannot be written.
    """
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    with atomic_output(out / "audit.csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["sample", "nearest_training_image", "ssim", "d1", "ratio", "flagged"])
        for i, name in enumerate(names):
            w.writerow(
                [
                    name,
                    train_names[result["nearest"][i]],
                    f"{result['ssim'][i]:.4f}",
                    f"{result['d1'][i]:.4f}",
                    f"{result['ratio'][i]:.4f}",
                    int(result["flagged"][i]),
                ]
            )
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    panels = (
        ("ssim", "SSIM to nearest training image", t.min_ssim),
        ("d1", "projected distance d1 (SD)", t.max_distance),
        ("ratio", "ratio d1 / d2", t.max_ratio),
    )
    for ax, (key, label, thr) in zip(axes, panels, strict=True):
        series = (
            [(calibration[kind][key], colour, name) for kind, colour, name in CALIBRATION_SERIES]
            if calibration
            else []
        )
        # One set of bin edges for every series, so their bars line up and compare.
        bins = np.histogram_bin_edges(np.concatenate([result[key], *(np.asarray(v) for v, _, _ in series)]), 30)
        if len(result[key]) >= FEW_SAMPLES:
            ax.hist(
                result[key], bins=bins, color=SAMPLE_COLOUR, alpha=0.75, density=True, label="generated vs training"
            )
        else:  # a density of a handful of samples is a few spikes that hide the rest: mark each sample instead
            for i, v in enumerate(result[key]):
                ax.axvline(v, color=SAMPLE_COLOUR, linewidth=1.5, label="generated vs training" if i == 0 else None)
        for values, colour, name in series:
            ax.hist(values, bins=bins, color=colour, alpha=0.5, density=True, label=name)
        ax.axvline(thr, color="black", linestyle="--", label="flag threshold")
        ax.set_xlabel(label)
    axes[0].legend(fontsize=7)
    fig.suptitle("Privacy audit: nearest training image of each generated sample")
    fig.tight_layout()
    with atomic_output(out / "audit_hist.png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    n, flagged = len(names), int(result["flagged"].sum())
    lines = [
        "# Privacy audit",
        "",
        f"{n} generated samples against {len(train_names)} training images: **{flagged} flagged** "
        f"({int(result['flag_ssim'].sum())} by SSIM >= {t.min_ssim:.3f}, {int(result['flag_index'].sum())} by "
        f"d1 <= {t.max_distance:.3f} and ratio <= {t.max_ratio:.3f}). Thresholds: {t.source}.",
        "",
        "| measure | median | most similar 1 % of samples (SSIM: 99th percentile; d1, ratio: 1st) |",
        "|---|---|---|",
        f"| SSIM | {np.median(result['ssim']):.3f} | {np.percentile(result['ssim'], 99):.3f} |",
        f"| d1 | {np.median(result['d1']):.3f} | {np.percentile(result['d1'], 1):.3f} |",
        f"| ratio | {np.median(result['ratio']):.3f} | {np.percentile(result['ratio'], 1):.3f} |",
    ]
    if calibration:
        lines += [
            "",
            "Calibration (children with known identity, searched among the training images like the samples):",
            "",
            "| queries | SSIM median | d1 median | ratio median | flagged by SSIM rule | flagged by index rule "
            "| flagged by either |",
            "|---|---|---|---|---|---|---|",
        ]
        for kind in ("same", "different"):
            c, rate = calibration[kind], calibration["rates"][kind]
            lines.append(
                f"| {kind} child | {np.median(c['ssim']):.3f} | {np.median(c['d1']):.3f} | "
                f"{np.median(c['ratio']):.3f} | {rate['ssim_rule']:.1%} | {rate['index_rule']:.1%} | "
                f"{rate['either']:.1%} |"
            )
    lines += ["", "Per-sample figures: audit.csv; histogram: audit_hist.png.", ""]
    path = out / "audit.md"
    with atomic_output(path) as tmp:
        tmp.write_text("\n".join(lines), encoding="utf-8")
    return path
