"""Batch generation with the learned generator: marked PNGs with provenance, near-copies refused.

    python -m models.generator.sample --model assets/generator --syndrome williams_beuren --n 8 --out out/gen

Every sample goes through the memorisation filter, the pipeline's privacy checker
(`models.generator.components.PhenoFacePrivacyChecker`) when the model folder has one; a flagged
sample is withheld and redrawn with the next seed, and the command says so. Every PNG carries text
metadata (synthetic, generator and the SHA-256 of its weights, HPO release, seed, condition, and for
a generator conditioned on HPO features the features drawn for the child) and, unless
``--no-mark``, a visible SYNTHETIC label.
Research and education only; not for diagnosis.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from models.constants import UNAFFECTED
from models.generator.config import use_sampler
from models.generator.pipeline import PhenoFacePipeline
from models.hardware import cpu_bf16

GENERATOR_NAME = "phenoface.generator (conditional diffusion)"
#: How many redraws a flagged sample gets before the request gives up.
MAX_REDRAWS = 5
#: Noise levels sigma that get classifier-free guidance by default: (0.5, inf), the first 18 of 25
#: DPM-Solver++ steps. The last 7 only refine texture, so skipping their unconditioned UNet pass
#: (Kynkäänniemi et al. 2024 limit guidance to an interval) took sampling from 0.556 to 0.492 s per
#: image (batch 16, 2 threads) at the same conditioned top-1 (6.9 % vs 6.5 %, 12 samples per class) and
#: face detection (100 %). The highest noise levels keep their guidance: they draw the face's layout.
GUIDANCE_INTERVAL: tuple[float, float] = (0.5, float("inf"))


@dataclass
class Sample:
    """One generated face.

    Attributes:
        image: (R, R, 3) uint8 RGB at the generator's resolution, unmarked.
        seed: seed of its initial noise.
        condition: syndrome, age_years, sex, skin_tone, and for a generator with an HPO vocabulary
            ``hpo_terms``: the HPO ids the drawn child was conditioned to show (a tuple).
        withheld: seeds drawn before this one whose samples the memorisation filter refused.
    """

    image: np.ndarray
    seed: int
    condition: dict
    withheld: list[int]


_CACHE: dict[str, PhenoFacePipeline] = {}
_LOCK = threading.Lock()


def load_generator(folder: str | Path) -> PhenoFacePipeline:
    """The pipeline (float32, CPU or CUDA, eval) with its privacy checker, loaded once per folder.

    On the CPU the UNet is kept channels-last, the layout oneDNN's convolutions prefer: 25-step
    DPM-Solver++ sampling with guidance went from 0.66 to 0.54 s per image (batch 16, bf16, 2 threads).

    Only safetensors weights are read (``use_safetensors=True``: a pickled ``.bin`` is refused, never
    unpickled) and nothing is downloaded.

    Raises:
        ValueError: the folder is not a PhenoFace pipeline folder, or a part of it is missing,
            unreadable or of another format (one sentence naming the folder and the fault).
    """
    key = str(Path(folder).resolve())
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _for_sampling(load_pipeline(folder))
        return _CACHE[key]


def _for_sampling(pipe: PhenoFacePipeline) -> PhenoFacePipeline:
    """`pipe` quiet, in eval mode and, on the CPU, channels-last (see `load_generator`); returns it."""
    pipe.set_progress_bar_config(disable=True)
    pipe.unet.eval()
    if pipe.device.type == "cpu":
        pipe.unet.to(memory_format=torch.channels_last)
    return pipe


def load_pipeline(folder: str | Path) -> PhenoFacePipeline:
    """The `PhenoFacePipeline` in a local folder, built from its parts, safetensors only, faults as one sentence.

    The UNet and scheduler load with diffusers (only the two schedulers PhenoFace saves are accepted);
    the shape model and privacy checker with PhenoFace's own classes (`models.generator.components`),
    never from the folder's copy of their code, so loading runs no code from the folder and writes
    nothing to diffusers' module cache. (Without PhenoFace, ``DiffusionPipeline.from_pretrained(folder,
    custom_pipeline=folder, trust_remote_code=True)`` loads the same folder from its own code.)

    Raises:
        ValueError: a broken ``model_index.json`` or component config, missing or non-safetensors
            weights (a ``.bin`` pickle is refused unread), or weights that do not fit the config.
    """
    import diffusers
    from safetensors import SafetensorError

    from models.generator import components

    folder = Path(folder)
    if not (folder / "model_index.json").is_file():
        raise ValueError(f"{folder} is not a generator folder (no model_index.json)")
    try:
        index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
        if not isinstance(index, dict) or index.get("_class_name") != "PhenoFacePipeline":
            raise ValueError("model_index.json does not describe a PhenoFacePipeline")
        parts = {}
        for name, allowed in (("unet", _UNETS), ("scheduler", _SCHEDULERS)) + tuple(
            (name, _OWN) for name in PhenoFacePipeline._own_components
        ):
            entry = index.get(name) or [None, None]
            if entry[1] is None and name in PhenoFacePipeline._own_components:
                parts[name] = None
                continue
            if not isinstance(entry, list) or len(entry) != 2 or entry[1] not in allowed:
                raise ValueError(
                    f"model_index.json names {entry!r} for {name}; PhenoFace loads only {sorted(allowed)}"
                )
            module = components if allowed is _OWN else diffusers
            cls = getattr(module, entry[1])
            kwargs = {} if name == "scheduler" else {"use_safetensors": True}
            parts[name] = cls.from_pretrained(folder / name, local_files_only=True, **kwargs)
        return PhenoFacePipeline(
            **parts,
            **{k: index[k] for k in ("class_names", "weights_sha256", "hpo_release", "hpo_vocabulary") if k in index},
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RuntimeError, SafetensorError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"the generator in {folder} could not be loaded: {first[:300]}") from None


def load_unfiltered(folder: str | Path) -> PhenoFacePipeline:
    """A private copy of the pipeline in `folder` without its privacy checker, for audits and probes that
    judge the generator itself (does it memorise? how fast is the UNet?); never for faces anyone is shown.

    Raises:
        ValueError: as `load_pipeline`.
    """
    pipe = _for_sampling(load_pipeline(folder))
    pipe.register_modules(privacy_checker=None)
    return pipe


#: The component classes `load_pipeline` accepts from a folder's model_index.json.
_UNETS = frozenset({"UNet2DConditionModel"})
_SCHEDULERS = frozenset({"DDIMScheduler", "DPMSolverMultistepScheduler"})
_OWN = frozenset({"PhenoFaceShapeModel", "PhenoFacePrivacyChecker"})


def generate(
    pipe: PhenoFacePipeline,
    syndrome: str | Sequence[str],
    age_years: float | Sequence[float],
    sex: str | Sequence[str],
    skin_tone: int | Sequence[int],
    seeds: Sequence[int],
    steps: int = 25,
    guidance_scale: float = 4.0,
    sampler: str = "dpm++",
    guidance_interval: tuple[float, float] | None = GUIDANCE_INTERVAL,
    hpo_terms: Sequence[Sequence[str]] | None = None,
) -> list[Sample]:
    """Sample one face per seed, redrawing any the memorisation filter (the pipeline's privacy checker) flags.

    A redraw uses seed ``s + 1_000_003 * k`` for the k-th attempt, so results stay reproducible.
    `pipe` is used by one request at a time (its scheduler is stateful).

    Args:
        pipe: the pipeline; without a privacy checker nothing is filtered (`provenance` says so).
        syndrome, age_years, sex, skin_tone: condition, scalars or one per seed.
        seeds: noise seeds, one per image.
        steps: sampler steps; guidance_scale: classifier-free guidance weight; sampler: "ddim" or "dpm++".
        guidance_interval: (low, high] noise levels sigma that get guidance (see `PhenoFacePipeline`;
            default `GUIDANCE_INTERVAL`); None guides every step.
        hpo_terms: for a generator with an HPO vocabulary, the HPO ids each child shows, one list per
            seed; None draws them with `draw_hpo_terms`. Ignored by a syndrome-only generator.

    Returns:
        One `Sample` per seed, in order.

    Raises:
        ValueError: bad condition or settings, or a sample still flagged after `MAX_REDRAWS` redraws.
    """
    n = len(seeds)
    # bfloat16 halves sampling time on CPUs with native bf16 (AVX-512 BF16, AMX); on the development CPU
    # samples differ from float32 by 0.3 of 255 grey levels on average
    fast = pipe.device.type == "cpu" and cpu_bf16()

    def per(v):
        return list(v) if isinstance(v, (list, tuple)) else [v] * n

    conds = list(zip(per(syndrome), per(age_years), per(sex), per(skin_tone), strict=True))
    vocabulary = pipe.hpo_vocabulary
    if vocabulary and hpo_terms is None:
        hpo_terms = draw_hpo_terms(vocabulary, *zip(*conds, strict=True), seeds)
    terms = [tuple(t) for t in hpo_terms] if vocabulary and hpo_terms is not None else None
    if terms is not None and len(terms) != n:
        raise ValueError(f"got {len(terms)} lists of HPO terms for {n} seeds")
    with _LOCK:
        use_sampler(pipe, sampler)
        todo = list(range(n))
        current = list(seeds)
        withheld: list[list[int]] = [[] for _ in range(n)]
        images: list[np.ndarray | None] = [None] * n
        for attempt in range(MAX_REDRAWS + 1):
            if not todo:
                break
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=fast):
                out = pipe(
                    syndrome=[conds[i][0] for i in todo],
                    age_years=[float(conds[i][1]) for i in todo],
                    sex=[conds[i][2] for i in todo],
                    skin_tone=[int(conds[i][3]) for i in todo],
                    hpo_terms=[list(terms[i]) for i in todo] if terms is not None else None,
                    num_inference_steps=steps,
                    guidance_scale=guidance_scale,
                    guidance_interval=guidance_interval,
                    generator=[torch.Generator().manual_seed(int(current[i])) for i in todo],
                    output_type="np",
                )
            batch = (out.images * 255).round().astype(np.uint8)
            flagged = out.near_copy_detected or [False] * len(todo)
            still = []
            for j, i in enumerate(todo):
                if flagged[j]:
                    withheld[i].append(int(current[i]))
                    current[i] = int(seeds[i]) + 1_000_003 * (attempt + 1)
                    still.append(i)
                else:
                    images[i] = batch[j]
            todo = still
        if todo:
            raise ValueError(f"{len(todo)} sample(s) stayed too close to a training image after {MAX_REDRAWS} redraws")
    keys = ("syndrome", "age_years", "sex", "skin_tone")
    return [
        Sample(
            images[i],
            int(current[i]),
            dict(zip(keys, conds[i], strict=True)) | ({"hpo_terms": terms[i]} if terms is not None else {}),
            withheld[i],
        )
        for i in range(n)
    ]


def draw_hpo_terms(
    vocabulary: Sequence[str],
    syndromes: Sequence[str],
    ages: Sequence[float],
    sexes: Sequence[str],
    tones: Sequence[int],
    seeds: Sequence[int],
) -> list[tuple[str, ...]]:
    """The HPO features of a new child per seed, drawn by the phenotype engine, for a generator conditioned on them.

    Each child's features are drawn from its syndrome's annotated frequencies (HPO annotations, see
    `models.phenotype.catalog`) exactly as the simulated cohort draws them (`present_terms` with the
    seed as identity seed), then limited to the generator's `vocabulary`. An unaffected child has none.

    Args:
        vocabulary: the generator's HPO ids.
        syndromes, ages, sexes, tones, seeds: one entry per child (years; Monk levels 1-10).

    Returns:
        One tuple of HPO ids per child.

    Raises:
        ValueError: a syndrome the phenotype engine does not know, or an age outside 0-18 years.
    """
    from models.phenotype.spec import RenderSpec
    from models.phenotype.synthesizer import present_terms

    known = set(vocabulary)
    return [
        tuple(
            t
            for t in present_terms(RenderSpec(syndrome=s, age=float(a), sex=x, skin_tone=int(k), seed=int(seed)))
            if t in known
        )
        for s, a, x, k, seed in zip(syndromes, ages, sexes, tones, seeds, strict=True)
    ]


def upscale(image: np.ndarray, size: int) -> np.ndarray:
    """(R, R, 3) uint8 -> (size, size, 3) uint8 with a Lanczos filter (display only; adds no detail)."""
    if image.shape[0] == size:
        return image
    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.LANCZOS))


def interval_text(interval: tuple[float, float] | None) -> str:
    """' at noise levels sigma > low' or ' ... in (low, high]' for metadata and logs; '' when every step is guided."""
    if interval is None:
        return ""
    low, high = interval
    if high == float("inf"):
        return f" at noise levels sigma > {low:g}"
    return f" at noise levels sigma in ({low:g}, {high:g}]"


def provenance(
    pipe: PhenoFacePipeline,
    sample: Sample,
    steps: int,
    guidance: float,
    sampler: str,
    filtered: bool,
    guidance_interval: tuple[float, float] | None = GUIDANCE_INTERVAL,
) -> dict:
    """PNG text metadata of a generated sample (see `models.provenance.png_metadata`).

    `filtered` says whether the sample passed the memorisation filter (False: no index was available);
    `guidance_interval` is the one `generate` used.
    """
    from models.provenance import png_metadata

    return png_metadata(
        generator=GENERATOR_NAME,
        seed=sample.seed,
        hpo_release=pipe.config.hpo_release or None,
        weights_sha256=pipe.config.weights_sha256 or None,
        condition=sample.condition,
        sampler=f"{sampler}, {steps} steps, guidance {guidance}" + interval_text(guidance_interval),
        memorisation_filter="passed" if filtered else "not applied (no privacy index)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (also used by ``--help``)."""
    p = argparse.ArgumentParser(
        prog="python -m models.generator.sample",
        description="Generate synthetic faces with the learned diffusion generator. Every image is marked "
        "synthetic. For a generator conditioned on HPO features, each child's features are drawn from the "
        "syndrome's frequencies by the phenotype engine and listed in attributes.csv and the PNG metadata. "
        "Research and education only; not for diagnosis.",
    )
    p.add_argument(
        "--model", type=Path, default=Path("assets/generator"), help="generator folder (default: assets/generator)"
    )
    p.add_argument("--out", type=Path, required=True, help="output folder (created); gets PNGs and attributes.csv")
    p.add_argument(
        "--syndrome",
        default=None,
        help="catalogue key, display name or OMIM id (e.g. williams_beuren, OMIM:194050); 'all' for every class "
        "(default: all)",
    )
    p.add_argument("--n", type=int, default=8, help="images per syndrome, 1 to 10000 (default: 8)")
    p.add_argument("--age", type=float, default=None, help="age in years 0-18 (default: uniform 1-16 per image)")
    p.add_argument("--sex", choices=("female", "male"), default=None, help="(default: alternating)")
    p.add_argument("--skin-tone", type=int, default=None, help="Monk level 1-10 (default: uniform per image)")
    p.add_argument("--seed", type=int, default=0, help="first noise seed; image i uses seed + i (default: 0)")
    p.add_argument("--steps", type=int, default=25, help="sampler steps, 1-200 (default: 25)")
    p.add_argument("--guidance", type=float, default=4.0, help="classifier-free guidance weight (default: 4)")
    p.add_argument("--sampler", choices=("ddim", "dpm++"), default="dpm++", help="(default: dpm++)")
    p.add_argument(
        "--size",
        type=int,
        default=256,
        help="saved width and height in pixels, 64-512; larger "
        "than the model's resolution is upsampled with Lanczos (default: 256)",
    )
    p.add_argument("--batch", type=int, default=16, help="images per forward pass (default: 16)")
    p.add_argument(
        "--no-mark",
        action="store_true",
        help="leave out the visible SYNTHETIC label (the metadata still says synthetic), e.g. to evaluate the samples",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run; returns 0, or 2 with a one-line message for bad arguments."""
    from models.faces import LEARNED, FaceRequest, Sampling, draw_faces
    from models.phenotype.spec import RenderSpec

    args = build_parser().parse_args(argv)
    try:
        if not 1 <= args.n <= 10000 or not 1 <= args.steps <= 200 or not 64 <= args.size <= 512:
            raise ValueError("--n must be 1-10000, --steps 1-200 and --size 64-512")
        if args.age is not None and not 0 <= args.age <= 18:
            raise ValueError("--age must be 0 to 18 years")
        if args.skin_tone is not None and not 1 <= args.skin_tone <= 10:
            raise ValueError("--skin-tone must be a Monk level 1 to 10")
        if args.batch < 1:
            raise ValueError("--batch must be at least 1")
        if not 0 <= args.guidance <= 20:
            raise ValueError("--guidance must be 0 to 20")
        wanted = None
        if args.syndrome not in (None, "all"):
            from models.phenotype.cohort import cohort_classes

            # a catalogue key, display name or OMIM id, as the render command takes; checked before loading
            wanted = args.syndrome if args.syndrome == UNAFFECTED else cohort_classes([args.syndrome])[0]
        pipe = load_generator(args.model)
        classes = pipe.class_names if wanted is None else [wanted]
        unknown = [c for c in classes if c not in pipe.class_names]
        if unknown:
            raise ValueError(f"unknown syndrome {unknown[0]!r}; this generator knows: {', '.join(pipe.class_names)}")
        if pipe.privacy_checker is None:
            print("warning: no privacy index in the model folder; samples are not filtered", file=sys.stderr)
        args.out.mkdir(parents=True, exist_ok=True)
        rows = []
        total_withheld = 0
        for cls in classes:
            for start in range(0, args.n, args.batch):
                k = min(args.batch, args.n - start)
                seeds = [args.seed + start + i for i in range(k)]
                # each image's age and tone come from its own seed, so --batch changes no face
                draws = [np.random.default_rng((args.seed, start + i)) for i in range(k)]
                ages = [args.age if args.age is not None else float(r.uniform(1, 16)) for r in draws]
                sexes = [args.sex or ("female" if (start + i) % 2 == 0 else "male") for i in range(k)]
                tones = [args.skin_tone or int(r.integers(1, 11)) for r in draws]
                children = tuple(
                    RenderSpec(syndrome=cls, age=a, sex=x, skin_tone=t, seed=seed, size=args.size)
                    for a, x, t, seed in zip(ages, sexes, tones, seeds, strict=True)
                )
                request = FaceRequest(
                    spec=children[0], children=children, generator=LEARNED, pair=False, pipeline=pipe,
                    sampling=Sampling(args.steps, args.guidance, args.sampler),
                )  # fmt: skip
                for i, face in enumerate(draw_faces(request)):
                    total_withheld += len(face.withheld)
                    name = f"{cls}-{start + i:05d}.png"
                    face.save(args.out / name, mark=not args.no_mark)
                    condition = json.loads(face.info["condition"])
                    terms = ";".join(condition.get("hpo_terms", ()))
                    rows.append({"file": name, **condition, "hpo_terms": terms, "seed": face.seed})
        from models.files import atomic_output

        fields = ["file", "syndrome", "age_years", "sex", "skin_tone", "hpo_terms", "seed"]
        with atomic_output(args.out / "attributes.csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)
        filtered = (
            (
                f"the memorisation filter withheld {total_withheld} sample(s) and redrew them"
                if total_withheld
                else "every sample passed the memorisation filter"
            )
            if pipe.privacy_checker is not None
            else "no memorisation filter was applied (no privacy index)"
        )
        print(f"wrote {len(rows)} images to {args.out}; {filtered}", file=sys.stderr)
        return 0
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
