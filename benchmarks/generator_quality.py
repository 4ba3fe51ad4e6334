"""Quality of the learned generator, judged by the shipped classifier, face detection and the privacy audit.

    python -m benchmarks.generator_quality --model assets/generator --classifier assets/classifier \\
        --train out/data/train --per-class 50 --out out/bench/generator
    python -m benchmarks.generator_quality --speed      # seconds per image only

For every class, `--per-class` samples (seeds 0..n-1, ages uniform 1-16 years, alternating sex,
Monk tones uniform 1-10; DPM-Solver++, 25 steps, guidance 4 at noise levels sigma > 0.5 as in the app) are drawn.
It prints and writes:

* the share of samples whose top-1 prediction by the shipped classifier is the conditioned
  syndrome (chance is 1 / number of classes), per class, beside the classifier's own top-1 on
  phenotype-model renders (``--engine``, the one that drew the training cohort) of that class with the
  same ages, sexes and tones (the ceiling a perfect generator of our renders would reach);
* the same on those renders brought down to the generator's resolution and back (Lanczos), which
  shows whether the syndrome is still visible at that resolution;
* face detection: MediaPipe Face Mesh finds a face in the sample, upsampled to 256 px (Lanczos)
  with a 25 % grey border (the samples are tight aligned crops);
* the privacy audit (`models.generator.audit`) against the training set: samples flagged;
* a contact sheet, one row per class (``samples.png``).

Samples go to the classifier as they come (they are aligned crops already, the generator having
learned aligned crops), resized to 112 px with Lanczos.
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

from benchmarks.common import bounded, grid, run_benchmark, save_sheet
from models.alignment import CROP_SIZE, preprocess
from models.classifier.model import load_classifier, predict_logits
from models.faces import LEARNED, FaceRequest, Sampling, add_engine_flag, draw_face, draw_faces
from models.generator.audit import audit, load_folder_images
from models.generator.privacy_index import Thresholds
from models.generator.sample import GUIDANCE_INTERVAL, generate, interval_text, load_unfiltered, upscale
from models.phenotype.catalog import load_catalog
from models.phenotype.spec import RenderSpec


def conditions(classes: list[str], n: int, seed: int = 0) -> dict[str, list]:
    """Per class: ages, sexes and tones of the n samples (the same for every class)."""
    rng = np.random.default_rng(seed)
    return {
        "age": [round(float(rng.uniform(1, 16)), 2) for _ in range(n)],
        "sex": ["female" if i % 2 == 0 else "male" for i in range(n)],
        "tone": [int(rng.integers(1, 11)) for _ in range(n)],
    }


def top1(model, crops: np.ndarray) -> np.ndarray:
    """Predicted class indices (N,) of (N, 112, 112, 3) uint8 aligned crops."""
    return predict_logits(model, crops).argmax(1)


def detected(image: np.ndarray) -> bool:
    """Whether Face Mesh finds one face in a sample upsampled to 256 px with a 25 % grey border."""
    big = upscale(image, 256)
    pad = 64
    canvas = np.full((256 + 2 * pad, 256 + 2 * pad, 3), 128, dtype=np.uint8)
    canvas[pad:-pad, pad:-pad] = big
    try:
        preprocess(canvas)
        return True
    except ValueError:
        return False


def interval_arg(text: str) -> tuple[float, float] | None:
    """Parse ``LOW,HIGH`` into a noise-level interval, or ``all`` into None (argparse type; bad text exits 2)."""
    if text == "all":
        return None
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH such as 0.28,5.42, not {text!r}") from None
    if not 0 <= low < high:
        raise argparse.ArgumentTypeError(f"need 0 <= LOW < HIGH, not {text!r}")
    return (low, high)


SPEED_TARGET_S = 0.5  # per image, 25 steps with guidance


def sampling_speed(
    pipe, batch: int = 16, steps: int = 25, guidance: float = 4.0, repeats: int = 2, interval=GUIDANCE_INTERVAL
) -> float:
    """Median seconds per image of `generate` (DPM-Solver++, `steps` steps, classifier-free guidance,
    in noise-level `interval` if given) for `batch` images drawn together, after one untimed batch;
    the machine should be otherwise idle."""
    args = (pipe, "down", [6.0] * batch, ["female"] * batch, [4] * batch, list(range(batch)), steps, guidance)
    generate(*args, "dpm++", interval)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        generate(*args, "dpm++", interval)
        seconds.append((time.perf_counter() - start) / batch)
    return float(np.median(seconds))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.generator_quality", description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, default=Path("assets/generator"), help="generator folder")
    p.add_argument("--classifier", type=Path, default=Path("assets/classifier"), help="classifier folder")
    p.add_argument("--train", type=Path, default=None, help="the generator's training set, for the privacy audit")
    p.add_argument("--per-class", type=bounded(int, 1), default=50, help="samples per class (default: 50)")
    p.add_argument("--steps", type=bounded(int, 1), default=25, help="DPM-Solver++ steps (default: 25)")
    p.add_argument("--guidance", type=bounded(float, 0.0), default=4.0, help="classifier-free guidance (default: 4)")
    p.add_argument(
        "--guidance-interval",
        type=interval_arg,
        default=GUIDANCE_INTERVAL,
        metavar="LOW,HIGH",
        help="guide only steps whose noise level sigma is in (LOW, HIGH], e.g. 0.28,5.42 (Kynkäänniemi et al. "
        "2024), or 'all' for every step (default: the app's, 0.5,inf)",
    )
    p.add_argument("--out", type=Path, default=Path("out/bench/generator"), help="output folder")
    p.add_argument("--no-renders", action="store_true", help="skip the classifier-on-renders reference")
    add_engine_flag(p, "the reference renders: the one that drew the generator's training cohort")
    p.add_argument(
        "--speed",
        action="store_true",
        help="only time sampling: seconds per image at --steps with --guidance, batches of 1 and 16 "
        f"(target under {SPEED_TARGET_S} s)",
    )
    args = p.parse_args(argv)
    # the generator itself is judged (its samples are audited below, its UNet timed), so its samples are
    # drawn without the memorisation filter, as before the filter became a pipeline component
    if args.speed:
        pipe = load_unfiltered(args.model)
        where = interval_text(args.guidance_interval) or " at every step"
        threads = torch.get_num_threads()
        print(f"{threads} torch threads, DPM-Solver++ {args.steps} steps, guidance {args.guidance:g}{where}")
        for batch in (1, 16):
            s = sampling_speed(pipe, batch, args.steps, args.guidance, interval=args.guidance_interval)
            print(f"  batch {batch:>2}: {s:.3f} s per image  {'PASS' if s < SPEED_TARGET_S else 'FAIL'}")
        return 0

    t0 = time.time()
    pipe = load_unfiltered(args.model)
    model = load_classifier(args.classifier)
    classes = pipe.class_names
    index = {c: i for i, c in enumerate(model.config.classes)}
    names = {s.key: s.name for s in load_catalog().syndromes}
    cond = conditions(classes, args.per_class)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "samples").mkdir(exist_ok=True)
    rows, sheet, labels = [], [], []
    all_samples = []
    for cls in classes:
        start = time.time()
        children = tuple(
            RenderSpec(syndrome=cls, age=a, sex=x, skin_tone=t, seed=i, size=pipe.unet.config.sample_size)
            for i, (a, x, t) in enumerate(zip(cond["age"], cond["sex"], cond["tone"], strict=True))
        )
        request = FaceRequest(
            spec=children[0], children=children, generator=LEARNED, pair=False, pipeline=pipe,
            sampling=Sampling(args.steps, args.guidance, "dpm++", args.guidance_interval),
        )  # fmt: skip
        faces = draw_faces(request)
        gen_s = time.time() - start  # sampling alone, not the PNG writes
        images = np.stack([face.unmarked for face in faces])
        all_samples.append(images)
        for i, face in enumerate(faces):
            # unmarked pixels, as the classifier and the audit judge them; the metadata still says synthetic
            face.save(args.out / "samples" / f"{cls}-{i:03d}.png", mark=False)
        crops = np.stack(
            [np.asarray(Image.fromarray(im).resize((CROP_SIZE, CROP_SIZE), Image.LANCZOS)) for im in images]
        )
        pred = top1(model, crops)
        hit = float(np.mean(pred == index[cls]))
        det = float(np.mean([detected(im) for im in images]))
        ref = ref_low = None
        if not args.no_renders:
            ren = []
            for i in range(args.per_class):
                s = draw_face(
                    RenderSpec(
                        syndrome=cls,
                        age=cond["age"][i],
                        sex=cond["sex"][i],
                        skin_tone=cond["tone"][i],
                        seed=10_000 + i,
                        size=256,
                    ),
                    args.engine,
                ).sample
                ren.append(preprocess(s.image, s.landmarks))
            ren = np.stack(ren)
            ref = float(np.mean(top1(model, ren) == index[cls]))
            # the same renders at the generator's resolution: is the syndrome still there at 64 px?
            res = images.shape[1]
            low = np.stack([np.asarray(Image.fromarray(r).resize((res, res), Image.LANCZOS).resize(
                (CROP_SIZE, CROP_SIZE), Image.LANCZOS)) for r in ren])  # fmt: skip
            ref_low = float(np.mean(top1(model, low) == index[cls]))
        rows.append({"class": cls, "name": names.get(cls, "unaffected"), "generated_top1": hit, "renders_top1": ref,
                     "renders_at_resolution_top1": ref_low,
                     "detected": det, "sample_s": round(gen_s / args.per_class, 3)})  # fmt: skip
        sheet += [upscale(im, 96) for im in images[:8]]
        labels.append(names.get(cls, "a child without a syndrome"))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)

    interval = None if args.guidance_interval is None else "{:g},{:g}".format(*args.guidance_interval)
    result: dict = {"classes": rows, "per_class": args.per_class, "steps": args.steps, "guidance": args.guidance,
                    "guidance_interval": interval}  # fmt: skip
    result["mean_generated_top1"] = float(np.mean([r["generated_top1"] for r in rows]))
    result["detected"] = float(np.mean([r["detected"] for r in rows]))
    if not args.no_renders:
        result["renders_engine"] = args.engine
        result["mean_renders_top1"] = float(np.mean([r["renders_top1"] for r in rows]))
        result["mean_renders_at_resolution_top1"] = float(np.mean([r["renders_at_resolution_top1"] for r in rows]))
    if args.train is not None:
        from models.generator.privacy_index import load_checker, thresholds_of

        idx = load_checker(args.model)
        thresholds = thresholds_of(idx) if idx is not None else Thresholds()
        train, _ = load_folder_images(args.train, aligned=False)
        res = audit(np.concatenate(all_samples), train, thresholds)
        result["audit"] = {"flagged": int(res["flagged"].sum()), "n": int(len(res["flagged"])),
                           "max_ssim": float(res["ssim"].max()), "median_ssim": float(np.median(res["ssim"])),
                           "min_ratio": float(res["ratio"].min()), "thresholds": str(thresholds)}  # fmt: skip
    result["wall_s"] = round(time.time() - t0, 1)
    (args.out / "generator_quality.json").write_text(json.dumps(result, indent=1) + "\n")
    title = "Learned generator samples (64 px, shown at 96 px), SYNTHETIC"
    save_sheet(grid(sheet, [""] * len(sheet), 8, row_labels=labels, title=title), args.out / "samples.png")

    print("| class | generated: conditioned class is top-1 | renders: top-1 | face detected |")
    print("|---|---|---|---|")
    for r in rows:
        ref = "-" if r["renders_top1"] is None else f"{r['renders_top1']:.0%}"
        print(f"| {r['name']} | {r['generated_top1']:.0%} | {ref} | {r['detected']:.0%} |")
    renders = (
        ""
        if args.no_renders
        else f"renders {result['mean_renders_top1']:.1%} ({result['mean_renders_at_resolution_top1']:.1%} at "
        f"{pipe.unet.config.sample_size} px); "
    )
    print(
        f"\nmean over classes: generated {result['mean_generated_top1']:.1%} (chance {1 / len(classes):.1%}), "
        f"{renders}face detected in {result['detected']:.1%}"
    )
    if "audit" in result:
        a = result["audit"]
        print(
            f"privacy audit: {a['flagged']} of {a['n']} flagged; SSIM median {a['median_ssim']:.3f}, "
            f"max {a['max_ssim']:.3f}; lowest ratio {a['min_ratio']:.3f}"
        )
    print(f"wall time {result['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
