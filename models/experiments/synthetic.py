"""The experiment's generator: trained on the real training split, sampled, and judged.

Used by `models.experiments.synthetic_vs_real`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.experiments.presets import FACE_PRIOR, FEATURE_PRIOR, Preset
from models.files import atomic_output

#: The classifier that judges whether synthetic samples show their syndrome (`judge_synthetic`).
DEFAULT_JUDGE = Path(__file__).resolve().parents[2] / "assets" / "classifier"


def suffix(prior: str) -> str:
    """What a prior's files add to their names: nothing for the face prior (the protocol's first, so that
    earlier runs resume), ``_features`` for the feature prior."""
    return "" if prior == FACE_PRIOR else f"_{prior}"


def train_generator(
    preset: Preset, train: Path, pretrain: Path, out: Path, threads: int | None, prior: str = FACE_PRIOR
) -> Path:
    """Pretrain a prior (`FACE_PRIOR`: unaffected children; `FEATURE_PRIOR`: children with features and no
    syndrome, conditioned on the features), fine-tune on the real training split with its annotated HPO
    terms; resumes; returns the pipeline folder."""
    from models.generator import train as gen_train

    folder = out / f"generator{suffix(prior)}"
    if (folder / "model_index.json").is_file():
        return folder
    argv = [
        "--data", str(train), "--pretrain-data", str(pretrain), "--out", str(folder),
        "--pretrain-labels", "none" if prior == FEATURE_PRIOR else "unaffected",
        "--pretrain-steps", str(preset.gen_pretrain_steps), "--max-train-steps", str(preset.gen_finetune_steps),
        "--resolution", str(preset.resolution), "--block-out-channels", ",".join(map(str, preset.gen_channels)),
        "--batch-size", str(preset.gen_batch), "--mixed_precision", preset.gen_precision,
        "--checkpointing_steps", str(max(1, min(250, preset.gen_pretrain_steps + preset.gen_finetune_steps))),
        "--sample-every", "0", "--resume_from_checkpoint", "latest", "--quiet",
    ]  # fmt: skip
    if preset.gen_hpo or prior == FEATURE_PRIOR:
        argv.append("--condition-on-hpo")
    if preset.gen_shape:
        argv.append("--condition-on-shape")
    if preset.gen_feature_loss:
        argv += ["--feature-loss-weight", str(preset.gen_feature_loss)]
    if threads:
        argv += ["--num-threads", str(threads)]
    status = gen_train.cli(argv)
    if status != 0:
        raise RuntimeError(f"generator training failed (exit {status})")
    return folder


def sample_synthetic(
    preset: Preset, generator: Path, classes: Sequence[str], out: Path, prior: str = FACE_PRIOR
) -> tuple[np.ndarray, np.ndarray]:
    """max(scales) samples per class, one file per class (resumable); images (N, R, R, 3) uint8, labels (N,) int.

    A generator conditioned on HPO terms draws each child's features from its syndrome's annotated
    frequencies (`models.generator.sample.draw_hpo_terms`)."""
    from models.faces import LEARNED, FaceRequest, Sampling, draw_faces
    from models.generator.sample import load_generator
    from models.phenotype.spec import RenderSpec

    pipe = load_generator(generator)
    resolution = pipe.unet.config.sample_size
    # every step guided, as in the committed paper run, so its results reproduce
    sampling = Sampling(preset.sample_steps, preset.guidance, "dpm++", guidance_interval=None)
    n = max(preset.scales)
    folder = out / f"synthetic{suffix(prior)}"
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = [], []
    for c, cls in enumerate(classes):
        path = folder / f"{cls}.npz"
        if not path.is_file():
            rng = np.random.default_rng([7, c])
            batch = []
            for start in range(0, n, 32):
                k = min(32, n - start)
                seeds = [c * 100_000 + start + i for i in range(k)]
                ages = [float(rng.uniform(1, 16)) for _ in range(k)]
                sexes = [("female", "male")[int(rng.integers(2))] for _ in range(k)]
                tones = [int(rng.integers(1, 11)) for _ in range(k)]
                children = tuple(
                    RenderSpec(syndrome=cls, age=a, sex=x, skin_tone=t, seed=seed, size=resolution)
                    for a, x, t, seed in zip(ages, sexes, tones, seeds, strict=True)
                )
                request = FaceRequest(
                    spec=children[0], children=children, generator=LEARNED, pair=False, pipeline=pipe,
                    sampling=sampling,
                )  # fmt: skip
                # unmarked pixels at the model's resolution: the classifiers learn from the faces, not the label
                batch += [face.unmarked for face in draw_faces(request)]
            with atomic_output(path) as tmp, open(tmp, "wb") as f:
                np.savez(f, images=np.stack(batch))
        with np.load(path) as z:
            images.append(z["images"][:n])
            labels.append(np.full(n, c))
    return np.concatenate(images), np.concatenate(labels)


def judge_synthetic(
    images: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[str],
    out: Path,
    judge: Path | None,
    prior: str = FACE_PRIOR,
) -> dict[str, Any] | None:
    """How often an independent classifier names the syndrome each synthetic sample was drawn for.

    The judge is a trained classifier folder (by default the shipped one, trained on full-size
    phenotype-model renders, which recognises them as well at 64 px as at full size); it tells
    whether the generator drew the syndromes at all, which the arms' accuracies alone cannot. Written
    once to ``synthetic_check.json``.

    Args:
        images: (N, R, R, 3) uint8 synthetic samples; labels: (N,) int indices into `classes`.
        classes: class keys of the run.
        out: run folder.
        judge: classifier folder, or None to skip.

    Returns:
        ``{"judge", "mean_top1", "chance", "per_class"}``, or None when there is no judge or it does not
        know every class of the run (for example on licensed data with other conditions).
    """
    path = out / f"synthetic_check{suffix(prior)}.json"
    if path.is_file():
        return json.loads(path.read_text())
    if judge is None or not (judge / "config.json").is_file():
        return None
    from PIL import Image

    from models.classifier.model import load_classifier, predict_logits

    model = load_classifier(judge)
    known = list(model.config.classes)
    if not set(classes) <= set(known):
        return None
    size = model.config.input_size
    pred = []
    for start in range(0, len(images), 64):  # resized 64 at a time, so the crops never all sit in memory
        crops = np.stack(
            [np.asarray(Image.fromarray(im).resize((size, size), Image.LANCZOS)) for im in images[start : start + 64]]
        )
        pred.append(predict_logits(model, crops).argmax(1))
    named = np.array([classes.index(known[i]) if known[i] in classes else -1 for i in np.concatenate(pred)])
    per_class = {c: float(np.mean(named[labels == k] == k)) for k, c in enumerate(classes) if np.any(labels == k)}
    result = {
        "judge": str(judge),
        "mean_top1": float(np.mean(list(per_class.values()))),
        "chance": 1.0 / len(classes),
        "per_class": per_class,
        "prior": prior,
    }
    path.write_text(json.dumps(result, indent=1) + "\n")
    return result
