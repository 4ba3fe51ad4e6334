"""Colours and photographic conditions of a render: skin, eyes, hair, clothing, backdrop, light.

Skin colours are the ten swatches of the Monk Skin Tone scale (Monk E. 2019; published hex values
at skintone.google). Eye and hair colours are plain named sRGB colours; when a spec leaves them
open they are drawn from the identity seed with a weighting that follows skin tone (darker skin
tones draw darker eyes and hair more often), so a random cohort looks plausible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .raster import hex_rgb
from .spec import EYE_COLOURS, HAIR_COLOURS

MONK_HEX: tuple[str, ...] = (
    "f6ede4",
    "f3e7db",
    "f7ead0",
    "eadaba",
    "d7bd96",
    "a07e56",
    "825c43",
    "604134",
    "3a312a",
    "292420",
)

EYE_RGB: dict[str, tuple[float, float, float]] = {
    "brown": (0.36, 0.21, 0.11),
    "dark-brown": (0.19, 0.11, 0.06),
    "hazel": (0.47, 0.36, 0.19),
    "green": (0.33, 0.44, 0.28),
    "blue": (0.33, 0.49, 0.68),
    "grey": (0.50, 0.55, 0.58),
}
HAIR_RGB: dict[str, tuple[float, float, float]] = {
    "black": (0.055, 0.048, 0.045),
    "dark-brown": (0.15, 0.095, 0.06),
    "brown": (0.29, 0.18, 0.10),
    "light-brown": (0.48, 0.34, 0.20),
    "blond": (0.74, 0.60, 0.38),
    "red": (0.56, 0.24, 0.10),
}
_SHIRTS = ("3b5b7a", "7a3b3b", "3f6b4a", "c9b458", "5a4a7a", "d0d0d0", "2f3640", "b86b4b", "4f8fa8", "e8e2d0")
_BACKDROPS = (("c9ccd1", "8f959e"), ("d8d2c8", "a39c90"), ("b9c6cf", "7d8c98"), ("d6d6d6", "9a9a9a"))


@dataclass(frozen=True)
class Appearance:
    """What a child and the photograph look like, apart from morphology.

    Attributes:
        skin: (3,) float32 sRGB in [0, 1] (Monk swatch, lightened for skin hypopigmentation).
        eye: (3,) iris sRGB.
        hair: (3,) hair sRGB.
        eye_name, hair_name: the colour names.
        shirt: (3,) clothing sRGB.
        backdrop: ((3,), (3,)) top and bottom backdrop sRGB.
        light: (3,) unit vector towards the key light (x right, y down, z to the camera).
        roll: head roll in degrees.
        yaw: small horizontal turn, -1..1 (fraction of a few pixels of midline shift).
        smile: -1..1 expression of the mouth corners.
        long_hair: hair style falls to the shoulders.
    """

    skin: np.ndarray
    eye: np.ndarray
    hair: np.ndarray
    eye_name: str
    hair_name: str
    shirt: np.ndarray
    backdrop: tuple[np.ndarray, np.ndarray]
    light: np.ndarray
    roll: float
    yaw: float
    smile: float
    long_hair: bool


def _weighted_choice(rng: np.random.Generator, names, weights) -> str:
    w = np.asarray(weights, np.float64)
    return names[int(rng.choice(len(names), p=w / w.sum()))]


def draw_appearance(
    seed: int, skin_tone: int, sex: str, age: float, eye: str | None, hair: str | None, hypopigmentation: float
) -> Appearance:
    """Draw colours and photographic conditions from the identity seed.

    Args:
        seed: identity seed (the same child keeps its colours at every intensity and age).
        skin_tone: Monk level 1-10.
        sex: ``"female"`` or ``"male"`` (hair length).
        age: years (infants have short hair).
        eye, hair: names from `EYE_COLOURS` / `HAIR_COLOURS`, or None to draw them.
        hypopigmentation: amount of HP:0001010 Hypopigmentation of the skin (0 none, 1 typical).
    """
    rng = np.random.default_rng([seed, 101])
    dark = (skin_tone - 1) / 9.0
    eye_w = [1 + 2 * dark, 1 + 3 * dark, 0.6, 0.5 * (1 - dark) + 0.02, 0.9 * (1 - dark) ** 2 + 0.02, 0.3 * (1 - dark)]
    hair_w = [0.3 + 3 * dark, 1 + dark, 1.0, 0.8 * (1 - dark) + 0.02, 0.7 * (1 - dark) ** 2 + 0.01, 0.15 * (1 - dark)]
    eye_draw = _weighted_choice(rng, EYE_COLOURS, [w + 1e-3 for w in eye_w])
    hair_draw = _weighted_choice(rng, HAIR_COLOURS, [w + 1e-3 for w in hair_w])
    eye = eye or eye_draw
    hair = hair or hair_draw
    skin = hex_rgb(MONK_HEX[skin_tone - 1])
    if hypopigmentation > 0:
        lighter = hex_rgb(MONK_HEX[max(skin_tone - 3, 0)])
        skin = skin + (lighter - skin) * min(hypopigmentation, 1.5) / 1.5
    hair_rgb = np.array(HAIR_RGB[hair], np.float32)
    if age < 3 and hair in ("black", "dark-brown"):
        pass
    elif age < 3:
        hair_rgb = np.clip(hair_rgb * 1.12, 0, 1)  # toddlers' hair is often lighter
    light = np.array([rng.uniform(-0.7, -0.4), rng.uniform(-0.65, -0.4), 0.62], np.float32)
    light /= np.linalg.norm(light)
    top, bottom = _BACKDROPS[int(rng.integers(len(_BACKDROPS)))]
    # loose long hair for some girls; many children wear it tied back, which from the front reads
    # as short hair
    long_hair = sex == "female" and age >= 2.5 and rng.random() < 0.4 or (sex == "male" and rng.random() < 0.05)
    return Appearance(
        skin=skin.astype(np.float32),
        eye=np.array(EYE_RGB[eye], np.float32),
        hair=hair_rgb,
        eye_name=eye,
        hair_name=hair,
        shirt=hex_rgb(_SHIRTS[int(rng.integers(len(_SHIRTS)))]),
        backdrop=(hex_rgb(top), hex_rgb(bottom)),
        light=light,
        roll=float(rng.normal(0, 1.6)),
        yaw=float(rng.uniform(-1, 1)),
        smile=float(rng.uniform(-0.3, 0.6)),
        long_hair=bool(long_hair),
    )
