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
