"""Pieces every training script shares (classifier, generator): run flags and checkpoint folders.

Both scripts follow diffusers' training examples: Accelerate, ``--mixed_precision``,
``checkpoint-<step>`` folders in the output folder with a limit, ``--resume_from_checkpoint latest``.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from models.hardware import cpu_info


def add_run_args(p: argparse.ArgumentParser, precision_help: str) -> None:
    """Add --resume_from_checkpoint, --checkpoints_total_limit, --mixed_precision, --num-threads and --quiet."""
    p.add_argument(
        "--resume_from_checkpoint",
        "--resume-from-checkpoint",
        default=None,
        help="a checkpoint-<step> folder, or 'latest' for the newest one in --out",
    )
    p.add_argument(
        "--checkpoints_total_limit",
        "--checkpoints-total-limit",
        type=int,
        default=2,
        help="keep at most this many checkpoint folders (default: 2)",
    )
    p.add_argument(
        "--mixed_precision",
        "--mixed-precision",
        choices=("no", "fp16", "bf16"),
        default="no",
        help=precision_help,
    )
    p.add_argument(
        "--num-threads",
        "--num_threads",
        type=int,
        default=None,
        help="CPU threads for torch (default: torch's choice); 1 is fastest on a busy shared CPU",
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def bf16_warning(mixed_precision: str, on_gpu: bool) -> str | None:
    """A sentence for ``--mixed_precision bf16`` on a CPU without native bfloat16 (emulated: several times slower
    than float32), else None."""
    if mixed_precision != "bf16" or on_gpu or cpu_info().get("native_bf16", "yes") == "yes":
        return None
    return (
        "warning: this CPU has no native bfloat16 (no AVX512_BF16 or AMX): bf16 is emulated and runs several "
        "times slower than --mixed_precision no here"
    )


def check_out_is_free(out: Path, resume: str | None) -> None:
    """Refuse a new run into a folder that holds another run (its checkpoints or a non-empty ``metrics.jsonl``).

    Started again without ``--resume_from_checkpoint``, a run emptied the old log and put its checkpoints beside
    the old ones, which ``latest`` and the checkpoint limit then mixed up.

    Raises:
        ValueError: ``out`` holds a run and ``resume`` is None.
    """
    if resume is not None or not out.is_dir():
        return
    held = sorted((p.name for p in out.glob("checkpoint-*")), key=lambda n: (len(n), n))
    log = out / "metrics.jsonl"
    if log.is_file() and log.stat().st_size:
        held.append(log.name)
    if held:
        raise ValueError(
            f"--out {out} already holds a training run ({', '.join(held)}); continue it with "
            "--resume_from_checkpoint latest, or give another --out"
        )


def find_checkpoint(out: Path, which: str) -> Path | None:
    """The checkpoint folder to resume from: `which` itself, or the highest checkpoint-<step> in `out` (None: none)."""
    if which != "latest":
        return Path(which)
    found = sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    return found[-1] if found else None


def prune_checkpoints(out: Path, limit: int) -> None:
    """Delete the oldest checkpoint-<step> folders so that one more fits within `limit`."""
    found = sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    for old in found[: max(0, len(found) - limit + 1)]:
        shutil.rmtree(old)


def run_cli(build_parser, check_args, main, argv=None) -> int:
    """Parse `argv`, check the arguments, run `main`; a ValueError becomes one line on stderr and exit status 2."""
    import sys

    args = build_parser().parse_args(argv)
    try:
        check_args(args)
        return main(args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
