"""Where does the learned generator lose the syndrome? Re-draw held-out renders from a noise level and judge them.

    python -m benchmarks.generator_redraw --model assets/generator --data out/data/test --per-class 8 \\
        --start 199,499,799

For each start timestep t (out of 1000), every held-out render (aligned 64 px crop) is noised to
t and denoised by the generator with its own condition (syndrome, age, sex, Monk tone; DDIM, the
25-step trailing schedule from t down, classifier-free guidance 4), as SDEdit does (Meng et al.
2022). The shipped classifier then names the syndrome of each re-drawn face. At small t the
generator only retouches texture, so the figure shows whether its rendering style alone hides the
syndrome from the classifier; at large t it must draw the face's layout from the condition, which
is what sampling from pure noise asks of it. Where the top-1 falls tells which noise levels the
conditioning fails at. Prints one line per start and writes ``redraw.json`` and one contact sheet
per start (rows: classes; faces: the first 6 of each, shown at 96 px).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.common import bounded, run_benchmark
from benchmarks.generator_quality import top1
from models.alignment import CROP_SIZE
from models.classifier.model import load_classifier
from models.generator.config import use_sampler
from models.generator.data import conditions, load_training_set
from models.generator.sample import load_unfiltered, upscale
from models.hardware import cpu_bf16
from models.provenance import save_png


def starts_arg(text: str) -> list[int]:
    """Parse comma-separated start timesteps 1..999 (argparse type)."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected timesteps such as 199,499,799, not {text!r}") from None
    if not values or any(not 1 <= v <= 999 for v in values):
        raise argparse.ArgumentTypeError("start timesteps must be 1 to 999")
    return values


def strength_for(pipe, start: int, steps: int = 25) -> float:
    """The ``strength`` that starts the `steps`-step DDIM schedule at its last timestep at or below `start`."""
    use_sampler(pipe, "ddim").scheduler.set_timesteps(steps)
    return sum(int(t) <= start for t in pipe.scheduler.timesteps) / steps


@torch.no_grad()
def redraw(pipe, rows: list[dict], x0: torch.Tensor, start: int, guidance: float, seed: int) -> np.ndarray:
    """Noise (B, 3, R, R) images in [0, 1] to timestep `start` and denoise them under their rows' conditions.

    Returns:
        (B, R, R, 3) uint8 re-drawn images.
    """
    known = set(pipe.hpo_vocabulary)
    # bfloat16 where the CPU runs it natively, as `models.generator.sample.generate` does
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=pipe.device.type == "cpu" and cpu_bf16()):
        out = pipe(
            syndrome=[r["syndrome"] for r in rows],
            age_years=[min(18.0, max(0.0, float(r["age_years"]))) for r in rows],
            sex=[r["sex"] for r in rows],
            skin_tone=[int(r["skin_tone"]) for r in rows],
            hpo_terms=[[t for t in r.get("hpo_terms") or [] if t in known] for r in rows] if known else None,
            image=x0,
            strength=strength_for(pipe, start),
            num_inference_steps=25,
            guidance_scale=guidance,
            generator=torch.Generator().manual_seed(seed),
            output_type="np",
        ).images
    return (out * 255).round().astype(np.uint8)


def judge(model, images: np.ndarray) -> np.ndarray:
    """Predicted class indices (N,) of (N, R, R, 3) uint8 aligned crops, resized to 112 px with Lanczos."""
    crops = [np.asarray(Image.fromarray(im).resize((CROP_SIZE, CROP_SIZE), Image.LANCZOS)) for im in images]
    return top1(model, np.stack(crops))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.generator_redraw", description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, default=Path("assets/generator"), help="generator folder")
    p.add_argument("--classifier", type=Path, default=Path("assets/classifier"), help="classifier folder (the judge)")
    p.add_argument("--data", type=Path, required=True, help="held-out cohort folder with metadata.csv")
    p.add_argument("--per-class", type=bounded(int, 1), default=8, help="renders per class (default: 8)")
    p.add_argument(
        "--start",
        type=starts_arg,
        default=[199, 499, 799],
        help="start timesteps, comma-separated (default: 199,499,799)",
    )
    p.add_argument("--guidance", type=bounded(float, 0.0), default=4.0, help="classifier-free guidance (default: 4)")
    p.add_argument("--seed", type=int, default=0, help="seed of the added noise (default: 0)")
    p.add_argument("--out", type=Path, default=Path("out/bench/generator_redraw"), help="output folder")
    args = p.parse_args(argv)
    if not (args.data / "metadata.csv").is_file():
        raise ValueError(f"--data {args.data} has no metadata.csv")

    # Re-drawing a training render at low noise gives back that child by construction, which is what this
    # probe measures, so the privacy checker (which would blank exactly those) is left out here, knowingly.
    pipe = load_unfiltered(args.model)
    model = load_classifier(args.classifier)
    classes = pipe.class_names
    index = {c: i for i, c in enumerate(model.config.classes)}
    images, rows = load_training_set(args.data, pipe.unet.config.sample_size)
    pick = [i for c in classes for i in [j for j, r in enumerate(rows) if r["syndrome"] == c][: args.per_class]]
    if not pick:
        raise ValueError(f"no render in {args.data} belongs to a class of this generator")
    chosen = [rows[i] for i in pick]
    _, keep = conditions(chosen, classes, pipe.hpo_vocabulary)
    pick, chosen = [pick[i] for i in keep], [chosen[i] for i in keep]
    truth = np.array([index[r["syndrome"]] for r in chosen])
    x0 = torch.from_numpy(images[pick]).permute(0, 3, 1, 2).float() / 255
    pipe.set_progress_bar_config(disable=True)
    found = sorted({r["syndrome"] for r in chosen}, key=classes.index)
    args.out.mkdir(parents=True, exist_ok=True)

    result = {"n": len(pick), "classes": len(found), "guidance": args.guidance, "starts": []}
    result["renders_top1"] = float(np.mean(judge(model, images[pick]) == truth))
    print(f"{len(pick)} held-out renders of {len(found)} classes; at the generator's resolution the judge's top-1 "
          f"is {result['renders_top1']:.1%} (chance {1 / len(classes):.1%})")  # fmt: skip
    for start in args.start:
        t0 = time.time()
        out = np.concatenate([redraw(pipe, chosen[s : s + 48], x0[s : s + 48], start, args.guidance, args.seed + s)
                              for s in range(0, len(pick), 48)])  # fmt: skip
        hit = float(np.mean(judge(model, out) == truth))
        alpha_bar = float(pipe.scheduler.alphas_cumprod[start])
        sigma = ((1 - alpha_bar) / alpha_bar) ** 0.5
        result["starts"].append({"t": start, "sigma": round(sigma, 3), "top1": hit, "wall_s": round(time.time() - t0)})
        print(f"  re-drawn from t = {start:>3} (sigma {sigma:5.2f}): top-1 {hit:.1%}")
        big = np.stack([upscale(im, 96) for im in out])
        lines = [np.concatenate(list(big[[i for i, r in enumerate(chosen) if r["syndrome"] == c][:6]]), axis=1)
                 for c in found]  # fmt: skip
        sheet = np.full((len(lines) * 96, max(line.shape[1] for line in lines), 3), 255, np.uint8)
        for k, line in enumerate(lines):
            sheet[k * 96 : (k + 1) * 96, : line.shape[1]] = line
        save_png(sheet, args.out / f"redraw_t{start}.png", {"generator": "phenoface (re-drawn renders)", "t": start})
    (args.out / "redraw.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
