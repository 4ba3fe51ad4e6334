"""PhenoFace's conditional diffusion pipeline: synthetic children's faces by syndrome, age, sex and skin tone
(and, for generators trained with ``--condition-on-hpo``, the HPO features the child shows; for
generators trained with ``--condition-on-shape``, a face shape drawn from the condition).

This file is self-contained (it imports only torch, numpy, PIL and diffusers) because
`PhenoFacePipeline.save_pretrained` copies it into the pipeline folder as ``pipeline.py``: a
researcher without PhenoFace installed loads a trained generator with (recent diffusers releases ask
for ``trust_remote_code=True`` before it runs a folder's pipeline.py)::

    from diffusers import DiffusionPipeline
    pipe = DiffusionPipeline.from_pretrained(folder, custom_pipeline=folder, trust_remote_code=True)
    images = pipe(syndrome="williams_beuren", age_years=6, sex="female", skin_tone=4,
                  num_inference_steps=25, guidance_scale=4.0,
                  generator=torch.Generator().manual_seed(0)).images

Components: a ``UNet2DConditionModel`` whose class embedding is a learned projection
(``class_embed_type="projection"``) of the condition vector built by `condition_vector`; a
``DPMSolverMultistepScheduler`` saved as DPM-Solver++ 2M (swap in ``DDIMScheduler.from_config``
for DDIM); and two of PhenoFace's own (``components.py`` in their folders): the privacy checker,
which every call applies as Stable Diffusion pipelines apply their ``safety_checker`` (a sample
that is a near-copy of a training image comes back black and is reported in
``near_copy_detected``), and, for a generator trained with ``--condition-on-shape``, the linear
shape model: the pipeline draws each face's contour landmarks (eyes, brows, nose, lips, face oval)
from the condition, rasterises them with `landmark_map`, and the UNet reads that map as extra
input channels beside the noisy image. Classifier-free guidance (Ho & Salimans 2022) mixes the
conditioned prediction with the prediction for the all-zero "null" condition, which training
shows the model for a fraction of examples (condition dropout).

Every image is synthetic; the pipeline is for education and research, never for diagnosis.
"""

from __future__ import annotations

import inspect
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from diffusers import DiffusionPipeline
from diffusers.utils import BaseOutput
from PIL import Image

#: Sexes in the order of their condition-vector slots.
SEXES = ("male", "female")
#: Oldest age the condition encodes, in years (ages are divided by it).
MAX_AGE_YEARS = 18.0
#: Extra condition slots after the syndrome one-hot: age, male, female, skin tone, "conditioned" flag.
EXTRA_SLOTS = 5


def condition_dim(num_classes: int, num_terms: int = 0) -> int:
    """Length of the condition vector for `num_classes` syndromes (including ``unaffected``) and an HPO
    vocabulary of `num_terms` terms (0 for a generator conditioned on the syndrome alone)."""
    return num_classes + EXTRA_SLOTS + num_terms


def condition_vector(
    class_names: Sequence[str],
    syndrome: str | Sequence[str],
    age_years: float | Sequence[float],
    sex: str | Sequence[str],
    skin_tone: int | Sequence[int],
    batch_size: int | None = None,
    hpo_vocabulary: Sequence[str] = (),
    hpo_terms: Sequence[str] | Sequence[Sequence[str]] | None = None,
) -> torch.Tensor:
    """Encode conditions as the UNet's class labels.

    Layout of each row: one-hot syndrome (len(class_names)), age / 18, male, female,
    (Monk tone - 1) / 9, then 1.0 (the "conditioned" flag, so that no real condition equals the
    all-zero null condition of classifier-free guidance), then, if the generator has an HPO
    vocabulary, one slot per vocabulary term: 1.0 where the child shows that feature. All zeros
    there means "features not given": such a generator was trained with that too, so it falls back
    to the syndrome's gestalt.

    Args:
        class_names: the generator's classes, in order.
        syndrome: class name(s).
        age_years: age(s) in years, 0 to 18.
        sex: ``"female"`` or ``"male"``, or a list.
        skin_tone: Monk Skin Tone level(s) 1 to 10.
        batch_size: rows wanted; scalars are repeated to it (default: the longest list given, or 1).
        hpo_vocabulary: the generator's HPO ids in slot order (empty: no HPO slots).
        hpo_terms: HPO ids the child shows (one list for every row), one list per row, or None.

    Returns:
        (B, condition_dim(len(class_names), len(hpo_vocabulary))) float32 tensor.

    Raises:
        ValueError: unknown syndrome or sex, age or tone out of range, lists of different lengths,
            HPO terms for a generator without a vocabulary, or a term outside the vocabulary.
    """
    fields = {"syndrome": syndrome, "age_years": age_years, "sex": sex, "skin_tone": skin_tone}
    if hpo_terms is not None and not hpo_vocabulary:
        raise ValueError("this generator was not trained on HPO terms; leave hpo_terms out")
    per_row_terms = hpo_terms is not None and len(hpo_terms) > 0 and not isinstance(hpo_terms[0], str)
    if per_row_terms:
        fields["hpo_terms"] = [list(t) for t in hpo_terms]
    lengths = {len(v) for v in fields.values() if isinstance(v, (list, tuple))}
    if batch_size is None:
        batch_size = max(lengths) if lengths else 1
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a whole number of at least 1, not {batch_size!r}")
    if any(n != batch_size for n in lengths):
        raise ValueError(f"condition lists must all have {batch_size} entries, got lengths {sorted(lengths)}")
    rows = {k: list(v) if isinstance(v, (list, tuple)) else [v] * batch_size for k, v in fields.items()}
    if not per_row_terms:
        rows["hpo_terms"] = [list(hpo_terms or [])] * batch_size
    index = {name: i for i, name in enumerate(class_names)}
    slot = {term: i for i, term in enumerate(hpo_vocabulary)}
    out = torch.zeros(batch_size, condition_dim(len(class_names), len(hpo_vocabulary)), dtype=torch.float32)
    k = len(class_names)
    for b in range(batch_size):
        name, age, sx, tone = (rows[f][b] for f in ("syndrome", "age_years", "sex", "skin_tone"))
        if name not in index:
            raise ValueError(f"unknown syndrome {name!r}; this generator knows: {', '.join(class_names)}")
        if sx not in SEXES:
            raise ValueError(f"sex must be 'female' or 'male', not {sx!r}")
        if not 0.0 <= float(age) <= MAX_AGE_YEARS:
            raise ValueError(f"age must be 0 to {MAX_AGE_YEARS:g} years, not {age!r}")
        if int(tone) != tone or not 1 <= int(tone) <= 10:
            raise ValueError(f"skin tone must be a Monk level 1 to 10, not {tone!r}")
        out[b, index[name]] = 1.0
        out[b, k] = float(age) / MAX_AGE_YEARS
        out[b, k + 1 + SEXES.index(sx)] = 1.0
        out[b, k + 3] = (int(tone) - 1) / 9.0
        out[b, k + 4] = 1.0
        for term in rows["hpo_terms"][b]:
            if term not in slot:
                raise ValueError(
                    f"{term!r} is not among the {len(slot)} HPO terms this generator was trained on "
                    "(its config's hpo_vocabulary)"
                )
            out[b, k + EXTRA_SLOTS + slot[term]] = 1.0
    return out


def landmark_map(points: np.ndarray, edges: Sequence[Sequence[int]], size: int, channels: int) -> torch.Tensor:
    """Rasterise contour landmarks into the map a shape-conditioned UNet reads.

    Each edge is drawn as an anti-aliased line about one pixel wide (drawn at 4x, then box-filtered)
    into its channel.

    Args:
        points: (B, P, 2) landmarks (x, y) in units of the image side (0 to 1, top left origin);
            a face with any NaN point gets an empty map (training: Face Mesh found no face there).
        edges: (E, 3) rows (point a, point b, channel).
        size: map width and height in pixels.
        channels: number of map channels.

    Returns:
        (B, channels, size, size) float32 tensor in [0, 1].
    """
    from PIL import ImageDraw

    points = np.asarray(points, dtype=np.float64)
    big = 4 * size
    out = np.zeros((len(points), channels, size, size), dtype=np.float32)
    for b, face in enumerate(points):
        if np.isnan(face).any():
            continue
        xy = face * big
        for ch in range(channels):
            canvas = Image.new("L", (big, big), 0)
            draw = ImageDraw.Draw(canvas)
            for a, c, k in edges:
                if k == ch:
                    draw.line([tuple(xy[a]), tuple(xy[c])], fill=255, width=4)
            out[b, ch] = np.asarray(canvas.resize((size, size), Image.Resampling.BOX), dtype=np.float32) / 255.0
    return torch.from_numpy(out)


def shape_channels(shape_model) -> int:
    """Landmark-map channels of a shape model (`components.PhenoFaceShapeModel`; 0 for None)."""
    return 0 if shape_model is None else shape_model.channels


@dataclass
class PhenoFacePipelineOutput(BaseOutput):
    """What `PhenoFacePipeline.__call__` returns.

    Attributes:
        images: the samples (a list of PIL images, or a (B, H, W, 3) float32 array, or a (B, 3, H, W)
            float32 tensor, by ``output_type``); a sample the privacy checker flagged is all black.
        near_copy_detected: (B,) bools, True where the privacy checker flagged the sample as a
            near-copy of a training image (and blanked it); None for a pipeline without a checker.
    """

    images: list | np.ndarray | torch.Tensor
    near_copy_detected: list[bool] | None


class PhenoFacePipeline(DiffusionPipeline):
    """Sample synthetic faces of children conditioned on syndrome, age, sex and Monk skin tone.

    Args:
        unet: ``UNet2DConditionModel`` with ``class_embed_type="projection"`` and
            ``projection_class_embeddings_input_dim == len(class_names) + 5 + len(hpo_vocabulary)``.
        scheduler: a diffusers scheduler (saved: ``DPMSolverMultistepScheduler`` as DPM-Solver++ 2M
            with trailing timesteps, the sampler of PhenoFace's figures; ``DDIMScheduler`` works too).
        shape_model: for a generator conditioned on face shape, its `PhenoFaceShapeModel`
            (``shape_model/``); the UNet then has ``3 + shape_model.channels`` input channels.
        privacy_checker: the memorisation filter (`PhenoFacePrivacyChecker`, ``privacy_checker/``),
            applied to every sample; None only where the caller deliberately loads without it.
        class_names: the syndrome keys the UNet was trained on, in condition order
            (``unaffected`` first).
        weights_sha256: hash of the UNet weights file, written into every image's metadata.
        hpo_release: HPO release of the catalogue the training data came from.
        hpo_vocabulary: HPO ids the UNet is also conditioned on, in slot order (empty: none).

    Raises:
        ValueError: the UNet has no class embedding, or one of the wrong size (diffusers would
            otherwise ignore the condition silently; huggingface/diffusers issue 5330), input
            channels that do not match the shape model, or a shape model reading another condition size.
    """

    model_cpu_offload_seq = "unet"
    _optional_components = ["shape_model", "privacy_checker"]
    #: Components whose class lives in this package's ``components.py`` (copied into their folders on save).
    _own_components = ("shape_model", "privacy_checker")

    def __init__(
        self,
        unet,
        scheduler,
        shape_model=None,
        privacy_checker=None,
        class_names: list[str] | None = None,
        weights_sha256: str = "",
        hpo_release: str = "",
        hpo_vocabulary: list[str] | None = None,
    ) -> None:
        super().__init__()
        class_names = list(class_names or [])
        hpo_vocabulary = list(hpo_vocabulary or [])
        embedding = getattr(unet, "class_embedding", None)
        want = condition_dim(len(class_names), len(hpo_vocabulary))
        if embedding is None or getattr(unet.config, "projection_class_embeddings_input_dim", None) != want:
            raise ValueError(
                "the UNet must have a projection class embedding of size "
                f"{want} (len(class_names) + {EXTRA_SLOTS} + len(hpo_vocabulary)); without one, diffusers "
                "ignores class labels"
            )
        if shape_model is not None and shape_model.config.condition_size != want:
            raise ValueError(
                f"the shape model reads conditions of size {shape_model.config.condition_size}, not {want}"
            )
        in_want = unet.config.out_channels + shape_channels(shape_model)
        if unet.config.in_channels != in_want:
            raise ValueError(
                f"the UNet reads {unet.config.in_channels} input channels, but the image and landmark map "
                f"have {in_want}"
            )
        self.register_modules(unet=unet, scheduler=scheduler, shape_model=shape_model, privacy_checker=privacy_checker)
        self.register_to_config(
            class_names=class_names,
            weights_sha256=weights_sha256,
            hpo_release=hpo_release,
            hpo_vocabulary=hpo_vocabulary,
        )

    @property
    def class_names(self) -> list[str]:
        """Syndrome keys in condition order."""
        return list(self.config.class_names)

    @property
    def hpo_vocabulary(self) -> list[str]:
        """HPO ids the generator is conditioned on (empty for a syndrome-only generator)."""
        return list(getattr(self.config, "hpo_vocabulary", None) or [])

    def draw_shapes(self, cond: torch.Tensor, z: torch.Tensor) -> np.ndarray:
        """Contour landmarks for condition vectors: the shape model's mean plus its components times `z`.

        Args:
            cond: (B, D) float condition vectors (`condition_vector`).
            z: (B, K) standard normal draws, one per residual component.

        Returns:
            (B, P, 2) float32 landmarks in units of the image side.

        Raises:
            ValueError: the generator has no shape model.
        """
        if self.shape_model is None:
            raise ValueError("this generator is not conditioned on face shape")
        return self.shape_model(cond, z)

    @torch.no_grad()
    def __call__(
        self,
        syndrome: str | Sequence[str] = "unaffected",
        age_years: float | Sequence[float] = 5.0,
        sex: str | Sequence[str] = "female",
        skin_tone: int | Sequence[int] = 3,
        hpo_terms: Sequence[str] | Sequence[Sequence[str]] | None = None,
        batch_size: int | None = None,
        num_inference_steps: int = 25,
        guidance_scale: float = 4.0,
        guidance_interval: tuple[float, float] | None = (0.5, float("inf")),
        generator: torch.Generator | list[torch.Generator] | None = None,
        latents: torch.Tensor | None = None,
        landmarks: np.ndarray | None = None,
        image: torch.Tensor | None = None,
        strength: float = 1.0,
        output_type: str = "pil",
        return_dict: bool = True,
    ) -> PhenoFacePipelineOutput | tuple:
        """Sample faces; the privacy checker blanks and reports any near-copy of a training image.

        Args:
            syndrome, age_years, sex, skin_tone: the condition, scalars or lists of one length
                (see `condition_vector`).
            hpo_terms: for a generator with an HPO vocabulary, the HPO ids each child shows (one list
                for all, or one list per image); None gives the syndrome's gestalt alone.
            batch_size: number of images (default: the length of the condition lists, or 1).
            num_inference_steps: scheduler steps, 1 to 1000.
            guidance_scale: classifier-free guidance weight w (1: conditioned prediction only;
                larger follows the condition more closely, at some cost in variety).
            guidance_interval: ``(low, high)``: guide only the steps whose noise level
                sigma = sqrt((1 - alpha_bar_t) / alpha_bar_t) lies in (low, high]; the others use the
                conditioned prediction alone and skip the unconditioned UNet pass. Kynkäänniemi et al.
                2024 ("Applying guidance in a limited interval improves sample and distribution
                quality in diffusion models") found guidance harmful at the highest noise levels and
                unnecessary at the lowest, and used (0.28, 5.42] for images in [-1, 1]. None guides
                every step. The defaults (25 steps, guidance 4.0 in (0.5, inf)) are the settings
                PhenoFace's app and its published figures use.
            generator: torch generator(s) for the initial noise (one per image for per-image seeds).
            latents: (B, 3, H, W) float32 initial noise instead of drawing it.
            landmarks: for a shape-conditioned generator, (B, P, 2) contour landmarks (units of the
                image side, finite, -0.5 to 1.5) to draw instead of drawing a shape from the condition; otherwise the
                shape's component weights are drawn from `generator` after the noise, so a seed
                still fixes the whole face.
            image: (B, 3, H, W) float images in [0, 1] (``output_type="pt"``'s format) to re-draw
                instead of starting from pure noise, as diffusers' image-to-image pipelines do
                (SDEdit: Meng et al. 2022, "SDEdit: guided image synthesis and editing with stochastic
                differential equations"): each is noised to the level of the first kept step, with
                `latents` (or noise from `generator`) as the noise, then denoised under the condition.
            strength: with `image`, the share of the ``num_inference_steps`` steps that is run, 0 to 1;
                1 starts from the noisiest step, small values keep more of the image.
            output_type: ``"pil"`` (list of RGB images), ``"np"`` ((B, H, W, 3) float32 in [0, 1]) or
                ``"pt"`` ((B, 3, H, W) float32 in [0, 1]).
            return_dict: return `PhenoFacePipelineOutput` (else a tuple (images, near_copy_detected)).

        Returns:
            `PhenoFacePipelineOutput`: ``images``, H = W = ``unet.config.sample_size`` pixels, black where
            ``near_copy_detected`` (one bool per image; None without a privacy checker) is True.

        Raises:
            ValueError: bad condition, step count, guidance scale, latents, image, strength or output type.
        """
        if not isinstance(num_inference_steps, int) or not 1 <= num_inference_steps <= 1000:
            raise ValueError(f"num_inference_steps must be an integer 1 to 1000, not {num_inference_steps!r}")
        if not 0.0 <= float(guidance_scale) <= 20.0:
            raise ValueError(f"guidance_scale must be 0 to 20, not {guidance_scale!r}")
        if guidance_interval is not None and not (
            len(guidance_interval) == 2 and 0.0 <= float(guidance_interval[0]) < float(guidance_interval[1])
        ):
            raise ValueError(f"guidance_interval must be (low, high) with 0 <= low < high, not {guidance_interval!r}")
        if output_type not in ("pil", "np", "pt"):
            raise ValueError(f"output_type must be 'pil', 'np' or 'pt', not {output_type!r}")
        if not 0.0 < float(strength) <= 1.0:
            raise ValueError(f"strength must be above 0 and at most 1, not {strength!r}")
        kept = min(num_inference_steps, int(num_inference_steps * float(strength)))
        if image is None and strength != 1.0:
            raise ValueError("strength applies to an image to re-draw: pass image as well")
        if image is not None and kept == 0:
            raise ValueError(f"strength {strength} keeps none of the {num_inference_steps} steps: raise either")
        device, dtype = self.unet.device, self.unet.dtype
        cond = condition_vector(
            self.class_names, syndrome, age_years, sex, skin_tone, batch_size, self.hpo_vocabulary, hpo_terms
        ).to(device, dtype)
        n = cond.shape[0]
        size = self.unet.config.sample_size
        shape = (n, self.unet.config.out_channels, size, size)
        if latents is None:
            latents = _randn(shape, generator, device, dtype)
        elif tuple(latents.shape) != shape:
            raise ValueError(f"latents must have shape {shape}, not {tuple(latents.shape)}")
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        if image is None:
            latents = latents.to(device, dtype) * self.scheduler.init_noise_sigma
        else:
            if tuple(image.shape) != shape or not torch.isfinite(image).all() or image.min() < 0 or image.max() > 1:
                raise ValueError(f"image must have shape {shape} and values in [0, 1]")
            start = len(timesteps) - kept
            timesteps = timesteps[start:]
            if hasattr(self.scheduler, "set_begin_index"):
                self.scheduler.set_begin_index(start * self.scheduler.order)
            clean = image.to(device, dtype) * 2 - 1
            latents = self.scheduler.add_noise(clean, latents.to(device, dtype), timesteps[:1].repeat(n))
        guided = guidance_scale != 1.0
        labels = torch.cat([cond, torch.zeros_like(cond)]) if guided else cond
        extra = self.shape_map(cond, landmarks, generator)
        # the null half of classifier-free guidance sees no shape, as condition dropout trained it
        extra_guided = None if extra is None else torch.cat([extra, torch.zeros_like(extra)])
        step_kwargs = {}
        if "generator" in inspect.signature(self.scheduler.step).parameters:
            step_kwargs["generator"] = generator if not isinstance(generator, list) else None
        for t in self.progress_bar(timesteps):
            guide = guided and _in_interval(self.scheduler, t, guidance_interval)
            model_in = torch.cat([latents, latents]) if guide else latents
            model_in = self.scheduler.scale_model_input(model_in, t)
            if extra is not None:
                model_in = torch.cat([model_in, extra_guided if guide else extra], 1)
            pred = self.unet(model_in, t, encoder_hidden_states=None, class_labels=labels if guide else cond).sample
            if guide:
                cond_pred, null_pred = pred.chunk(2)
                pred = null_pred + guidance_scale * (cond_pred - null_pred)
            latents = self.scheduler.step(pred, t, latents, **step_kwargs).prev_sample
        images = (latents.float() / 2 + 0.5).clamp(0, 1)
        flagged = None
        if self.privacy_checker is not None:
            # the checker reads the 8-bit samples, as they are saved and shown
            as_bytes = (images.permute(0, 2, 3, 1).cpu().numpy() * 255).round().astype(np.uint8)
            flagged = [bool(f) for f in self.privacy_checker(as_bytes)]
            images[torch.tensor(flagged, device=images.device)] = 0.0
        if output_type == "np":
            images = images.permute(0, 2, 3, 1).cpu().numpy()
        elif output_type == "pil":
            arrays = (images.permute(0, 2, 3, 1).cpu().numpy() * 255).round().astype(np.uint8)
            images = [Image.fromarray(a) for a in arrays]
        self.maybe_free_model_hooks()
        if not return_dict:
            return (images, flagged)
        return PhenoFacePipelineOutput(images=images, near_copy_detected=flagged)

    def shape_map(
        self,
        cond: torch.Tensor,
        landmarks: np.ndarray | None = None,
        generator: torch.Generator | list[torch.Generator] | None = None,
    ) -> torch.Tensor | None:
        """The landmark map a shape-conditioned UNet reads beside the noisy image.

        Args:
            cond: (B, D) condition vectors (`condition_vector`).
            landmarks: (B, P, 2) contour landmarks in units of the image side, or None to draw
                them from the shape model with `generator` (one per image for per-image seeds).
            generator: torch generator(s) for the shape's component weights.

        Returns:
            (B, C, R, R) map in [0, 1] on the UNet's device and dtype, or None for a generator
            without a shape model.

        Raises:
            ValueError: landmarks for a generator without a shape model, of the wrong shape, not
                finite, or far off the image.
        """
        model = self.shape_model
        if model is None:
            if landmarks is not None:
                raise ValueError("this generator is not conditioned on face shape; leave landmarks out")
            return None
        n, points = len(cond), model.config.num_points
        if landmarks is None:
            z = _randn((n, model.config.num_components), generator, torch.device("cpu"), torch.float32)
            landmarks = self.draw_shapes(cond, z)
        landmarks = np.asarray(landmarks, dtype=np.float32)
        if landmarks.shape != (n, points, 2):
            raise ValueError(f"landmarks must have shape {(n, points, 2)}, not {landmarks.shape}")
        if not np.isfinite(landmarks).all() or np.abs(landmarks - 0.5).max() > 1.0:
            # a face far off the canvas would silently get no shape at all
            raise ValueError("landmarks must be finite and within -0.5 to 1.5 (units of the image side)")
        size = self.unet.config.sample_size
        return landmark_map(landmarks, model.edge_list(), size, model.channels).to(self.unet.device, self.unet.dtype)

    def register_modules(self, **kwargs) -> None:
        """diffusers' registration, with PhenoFace's own components recorded as ``["components", class]`` in
        model_index.json: the file diffusers loads their class from is ``<component>/components.py``."""
        super().register_modules(**kwargs)
        own = {
            name: ("components", type(module).__name__)
            for name, module in kwargs.items()
            if name in self._own_components and module is not None
        }
        if own:
            self.register_to_config(**own)

    def save_pretrained(self, save_directory, *args, **kwargs) -> None:
        """diffusers' layout (model_index.json, unet/, scheduler/, shape_model/, privacy_checker/) plus this
        file as ``pipeline.py`` and the own components' source as ``<component>/components.py``."""
        super().save_pretrained(save_directory, *args, **kwargs)
        folder = Path(save_directory)
        shutil.copyfile(Path(__file__), folder / "pipeline.py")
        for name in self._own_components:
            component = getattr(self, name, None)
            if component is not None:
                shutil.copyfile(inspect.getfile(type(component)), folder / name / "components.py")


def _in_interval(scheduler, t, interval: tuple[float, float] | None) -> bool:
    """Whether timestep `t`'s noise level sigma lies in `interval` (always True for None)."""
    if interval is None:
        return True
    alpha_bar = float(scheduler.alphas_cumprod[int(t)])
    sigma = ((1.0 - alpha_bar) / alpha_bar) ** 0.5
    return float(interval[0]) < sigma <= float(interval[1])


def _randn(shape, generator, device, dtype) -> torch.Tensor:
    """Standard normal noise; one generator per image gives per-image seeds."""
    if isinstance(generator, list):
        if len(generator) != shape[0]:
            raise ValueError(f"got {len(generator)} generators for {shape[0]} images")
        return torch.cat([torch.randn((1, *shape[1:]), generator=g, dtype=torch.float32) for g in generator]).to(
            device, dtype
        )
    return torch.randn(shape, generator=generator, dtype=torch.float32).to(device, dtype)
