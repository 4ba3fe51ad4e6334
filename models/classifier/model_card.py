"""The model card (``README.md``) written beside a trained classifier."""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from models.classifier.config import ClassifierConfig


def _metrics_history(out: Path) -> list[dict[str, Any]]:
    path = out / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_model_card(
    args: argparse.Namespace,
    config: ClassifierConfig,
    rows: list[dict[str, Any]],
    train_idx: list[int],
    val_idx: list[int],
    history: list[dict[str, Any]],
    wall_s: float,
) -> Path:
    """Write ``README.md`` into ``args.out``: data, command, seed, wall time, per-epoch metrics, limits.

    Args:
        args: the parsed training arguments.
        config: the saved classifier config.
        rows: metadata rows used (faces found).
        train_idx: indices of training rows.
        val_idx: indices of validation rows.
        history: per-epoch metrics of this process (the file ``metrics.jsonl`` is preferred, as it
            also holds epochs before a resume).
        wall_s: wall time of this run in seconds.
    """
    out = Path(args.out)
    history = _metrics_history(out) or history
    command = "python -m models.classifier.train " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    per_class = Counter(rows[i]["syndrome"] for i in train_idx)
    last = history[-1] if history else {}
    lines = [
        f"# Syndrome classifier: {config.backbone}",
        "",
        "**Research and education only. Not a diagnostic tool.** Trained only on synthetic faces drawn by",
        "the PhenoFace phenotype engine; it has never seen a real patient, and its accuracy on synthetic",
        "faces says nothing about its accuracy on photographs of real children.",
        "",
        "## Model",
        "",
        f"- backbone: `timm.create_model({config.backbone!r}, pretrained=False, num_classes={len(config.classes)})`"
        + (f", initialised from `{args.init_checkpoint}`" if args.init_checkpoint else ", random initialisation"),
        f"- input: {config.input_size} x {config.input_size} RGB crop aligned on eyes and mouth "
        f"(`models.alignment`), normalised with mean {list(config.mean)} and std {list(config.std)}",
        f"- classes ({len(config.classes)}, in logit order): {', '.join(config.classes)}",
        "- files: `model.safetensors` (timm key names), `config.json`, `train_args.json`, `metrics.jsonl`",
        "",
        "## Data",
        "",
        f"- cohort: `{args.data}` ({len(rows)} images of {len({r['subject_id'] for r in rows})} children with a "
        "face found; counterfactual intensity-0 images left out)",
        f"- split by subject_id, seed {args.seed}: {len(train_idx)} training and {len(val_idx)} validation images "
        f"(validation fraction {args.val_fraction})",
        f"- training images per class: {', '.join(f'{k} {v}' for k, v in sorted(per_class.items()))}",
        "",
        "## Training",
        "",
        f"- command: `{command}`",
        f"- seed: {args.seed}; epochs {args.epochs}; batch size {args.batch_size}; AdamW lr {args.lr}, "
        f"weight decay {args.weight_decay}; label smoothing {args.label_smoothing}; precision {args.mixed_precision}",
        f"- wall time of this run: {wall_s:.0f} s on {platform.machine()} ({platform.system()}), "
        f"Python {platform.python_version()}",
        "",
        "## Validation metrics per epoch",
        "",
        "| epoch | train loss | val loss | val top-1 | val top-5 | per-syndrome top-1 | per-syndrome top-5 |",
        "|---|---|---|---|---|---|---|",
    ]

    def fmt(v: Any) -> str:
        return "-" if v is None else f"{v:.3f}"

    for h in history:
        keys = ("train_loss", "val_loss", "val_top1", "val_top5", "val_per_syndrome_top1", "val_per_syndrome_top5")
        lines.append(f"| {h['epoch']} | " + " | ".join(fmt(h.get(k)) for k in keys) + " |")
    lines += [
        "",
        f"Final: per-syndrome mean top-1 {fmt(last.get('val_per_syndrome_top1'))}, "
        f"top-5 {fmt(last.get('val_per_syndrome_top5'))} on validation children of the training cohort. "
        "Run `python -m models.classifier.evaluate` on a held-out cohort of new identities for the figures to "
        "report, and `python -m models.classifier.oracle` for the ceiling set by the simulator.",
        "",
        *(
            [
                f"Calibration: logits are divided by the temperature {config.temperature:.3f}, fitted on the same "
                "validation children by `python -m models.classifier.calibrate` (Guo et al. 2017); ECE and NLL "
                "before and after in `calibration.json`. Rankings are unchanged.",
                "",
            ]
            if config.temperature != 1.0
            else []
        ),
        "## Limitations",
        "",
        "- Synthetic faces only; facial morphology follows norms of mostly European-ancestry children.",
        "- A syndrome's features are sampled at their HPO frequencies, so some simulated children show none of",
        "  them; no image classifier can recognise those (see the oracle's ceiling).",
        "",
    ]
    path = out / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


#: The heading the held-out test section of a card starts at (`write_held_out_section` replaces it and what follows).
TEST_HEADING = "## Held-out test: new identities"
#: Issue targets the section checks each subgroup against: points of top-1 from the overall top-1.
SUBGROUP_GAP = 0.04


def held_out_section(metrics: dict[str, Any], oracle: dict[str, Any], test_command: str, model: str, data: str) -> str:
    """The card's held-out test section, every figure taken from the evaluation and oracle results.

    Args:
        metrics: `models.classifier.evaluate`'s ``metrics.json`` on the test cohort.
        oracle: `models.classifier.oracle`'s ``--out`` JSON on the same children.
        test_command: the command that wrote the test cohort.
        model, data: the model folder and test cohort as the evaluation command names them.

    Returns:
        Markdown starting at `TEST_HEADING`.
    """
    overall, ceiling = metrics["overall"], oracle["overall"]
    top1 = overall["per_syndrome_top1"]
    groups = {"all": overall}
    for key in ("by_skin_tone", "by_age_band", "by_sex", "by_ancestry"):
        groups.update({g: s for g, s in metrics.get(key, {}).items() if g != "unknown"})
    lines = [
        TEST_HEADING,
        "",
        f"Test cohort: `{test_command}` ({overall['n']:,} children never seen in training), scored with",
        f"`python -m models.classifier.evaluate --model {model} --data {data}` (`eval_test_metrics.json`).",
        "",
        f"**Ceiling.** An oracle that sees each child's HPO terms present ({oracle.get('n_terms', 'its')} terms, plus "
        "age and sex; logistic regression, `python -m models.classifier.oracle`, `oracle_test_metrics.json`) reaches "
        f"a per-syndrome mean top-1 of {ceiling['per_syndrome_top1']:.3f} and top-5 of "
        f"{ceiling['per_syndrome_top5']:.3f} on the same children. The image classifier's per-syndrome top-1 of "
        f"{top1:.3f} [{overall['per_syndrome_top1_ci'][0]:.3f}-{overall['per_syndrome_top1_ci'][1]:.3f}] is "
        f"**{top1 / ceiling['per_syndrome_top1']:.1%} of that ceiling**; its top-5 is "
        f"{overall['per_syndrome_top5']:.3f}; its ECE {overall['ece']:.3f} "
        f"[{overall['ece_ci'][0]:.3f}-{overall['ece_ci'][1]:.3f}].",
        "",
        "| subgroup | n | top-1 (95% CI) | per-syndrome top-1 | top-5 | ECE |",
        "|---|---|---|---|---|---|",
    ]
    for name, g in groups.items():
        lines.append(
            f"| {name} | {g['n']} | {g['top1']:.3f} ({g['top1_ci'][0]:.2f}-{g['top1_ci'][1]:.2f}) | "
            f"{g['per_syndrome_top1']:.3f} | {g['top5']:.3f} | {g['ece']:.3f} |"
        )
    lagging = [n for n, g in groups.items() if g["top1"] < overall["top1"] - SUBGROUP_GAP]
    lines += [
        "",
        f"Subgroups more than {SUBGROUP_GAP * 100:.0f} points of top-1 below the overall {overall['top1']:.3f}: "
        + (", ".join(lagging) if lagging else "none")
        + ". Ancestry is MakeHuman's African, Asian and European targets and their mix: artistic shapes, not "
        "anthropometric norms.",
        "",
        "Per-class sensitivity (Wilson 95% intervals):",
        "",
        "| class | sensitivity (95% CI) |",
        "|---|---|",
    ]
    for name, c in metrics["per_class_sensitivity"].items():
        lines.append(f"| {name} | {c['sensitivity']:.2f} ({c['ci'][0]:.2f}-{c['ci'][1]:.2f}) |")
    lines += ["", "Confusion matrix on the test cohort: `confusion_matrix_test.png` beside this card.", ""]
    return "\n".join(lines)


def write_held_out_section(folder: Path, test_command: str, model: str, data: str) -> Path:
    """Replace the held-out test section of ``folder/README.md`` (or add it) from ``eval_test_metrics.json``
    and ``oracle_test_metrics.json`` in `folder`; returns the card's path.

    Raises:
        FileNotFoundError: the card or a result file is missing.
    """
    from models.files import write_text

    card = (folder / "README.md").read_text(encoding="utf-8")
    head = card.split(TEST_HEADING)[0].rstrip() + "\n\n"
    metrics = json.loads((folder / "eval_test_metrics.json").read_text(encoding="utf-8"))
    oracle = json.loads((folder / "oracle_test_metrics.json").read_text(encoding="utf-8"))
    return write_text(folder / "README.md", head + held_out_section(metrics, oracle, test_command, model, data))


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (also used by ``--help``)."""
    p = argparse.ArgumentParser(
        prog="python -m models.classifier.model_card",
        description="Write the held-out test section of a classifier's model card from its committed evaluation "
        "(eval_test_metrics.json) and oracle (oracle_test_metrics.json) results.",
    )
    p.add_argument("--model", type=Path, required=True, help="classifier folder with README.md and the two JSONs")
    p.add_argument("--test-command", required=True, help="the command that wrote the test cohort")
    p.add_argument("--data", default="out/data/test", help="the test cohort's folder, as the card names it")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run; returns 0, or 2 with one line when a file is missing or unreadable."""
    args = build_parser().parse_args(argv)
    try:
        path = write_held_out_section(args.model, args.test_command, str(args.model), args.data)
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
