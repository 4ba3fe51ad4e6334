"""Anthropometric geometry of one child's face, in pixels: the `Frontal` layout both views share.

Vertical landmark levels (vertex, trichion, brows, eyes, nasion, subnasale, labiale superius,
stomion, labiale inferius, gnathion) and half-widths (head, face, mandible, forehead, eyes, nose,
mouth) come from the age- and sex-specific norms (`norms`) moved by the child's morphology
dimensions in SD. Anatomical sides: ``_r`` is the child's right, which appears on the image's left.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.ndimage import gaussian_filter1d

from .appearance import Appearance
from .norms import measure

# Canthal tilt: mean 4 degrees upslant, SD in degrees (Hall et al. 2007, Handbook of Physical
# Measurements, palpebral fissure inclination charts).
_CV_TILT_DEG = 3.5
_MEAN_TILT_DEG = 4.0


class Frontal:
    """Geometry of one child's frontal portrait, in pixels, computed from morphology and norms.

    Args:
        dims: morphology dimension -> SD score / amount (see `models.phenotype.morphology`).
        age: years. sex: ``"female"`` / ``"male"``. size: image side in pixels.
        app: the `Appearance` (expression, roll, yaw).
    """

    def __init__(self, dims: dict[str, float], age: float, sex: str, size: int, app: Appearance):
        self.d, self.age, self.sex, self.S, self.app = dims, age, sex, size, app
        d = dims
        m = lambda name, z=0.0: measure(name, age, sex, z)  # noqa: E731
        vg_norm = m("vertex_gnathion")
        self.ppm = ppm = 0.6 * size / vg_norm  # pixels per mm
        face_norm = m("face_height")
        cranial = (vg_norm - face_norm) * (1 + 0.05 * d["head_size"] + 0.03 * d["forehead_height"])
        nose_h = m("nose_height", d["nose_length"] + 0.3 * d["midface_projection"])
        phil = m("philtrum", 1.2 * d["philtrum_length"])
        uv = m("upper_vermilion", d["upper_lip_height"])
        lv = m("lower_vermilion", d["lower_lip_height"])
        lower_norm = face_norm - m("nose_height") - m("philtrum") - m("upper_vermilion")
        lower = lower_norm * (1 + 0.07 * d["mandible_length"] + 0.05 * d["face_length"])
        face_h = nose_h + phil + uv + lower
        self.cx = size / 2 + 0.006 * size * app.yaw
        self.y_v = y_v = 0.11 * size
        self.y_n = y_n = y_v + cranial * ppm
        self.y_eye = y_n + 0.07 * face_h * ppm
        self.y_sn = y_sn = y_n + nose_h * ppm
        self.y_ls = y_ls = y_sn + phil * ppm
        self.y_sto = y_sto = y_ls + uv * ppm
        self.y_li = y_sto + lv * ppm
        self.y_gn = y_n + face_h * ppm
        self.y_brow = self.y_eye - (0.13 * face_h + 0.6 * d["forehead_height"]) * ppm * 0.95
        self.y_tr = y_n - m("forehead_height", 0.7 * d["forehead_height"] - 1.0 * d["hairline_height"]) * ppm
        self.nose_h, self.face_h = nose_h * ppm, face_h * ppm
        self.uv, self.lv = uv * ppm, lv * ppm
        # widths (half-widths in px)
        head_w = m("head_width", 0.9 * d["head_size"] + 0.8 * d["cephalic_index"]) * ppm
        baby = float(np.interp(age, [0, 2, 8], [1.0, 0.7, 0.0]))  # buccal fat of infants
        face_w = m("face_width", 0.6 * d["face_roundness"] - 0.4 * d["face_length"] + 0.3 * baby) * ppm
        mand_w = (
            m(
                "mandible_width",
                0.7 * d["face_roundness"] - 0.5 * d["chin_pointed"] + 0.2 * d["mandible_length"] + 0.5 * baby,
            )
            * ppm
        )
        self.head_hw, self.face_hw, self.mand_hw = (
            head_w / 2,
            face_w / 2,
            mand_w / 2 * (1 - 0.035 * d["face_triangular"]),
        )
        # soft-tissue fullness of the lower face relative to the bizygomatic width (round in infants)
        self.soft = float(np.interp(age, [0, 3, 10, 18], [0.93, 0.9, 0.84, 0.8])) + 0.02 * d["cheek_fullness"]
        self.fore_hw = m("forehead_width", d["forehead_width"] + 0.3 * d["frontal_bossing"]) * ppm / 2
        # eyes: pupil half-distance, fissure length, inner canthus
        en = m("intercanthal")
        ex = m("biocular")
        ipd = (en + ex) / 2 * (1 + 0.055 * d["interpupillary"])
        pfl = (ex - en) / 2 * (1 + 0.07 * d["fissure_length"])
        tele = max(d["intercanthal"], 0.0) * 0.06 * en
        self.pupil_hd = ipd / 2 * ppm
        self.pfl = pfl * ppm
        self.en_hd = (ipd / 2 - pfl / 2 + tele * 0.6) * ppm
        self.ex_hd = (ipd / 2 + pfl / 2) * ppm
        self.tilt = np.deg2rad(_MEAN_TILT_DEG + _CV_TILT_DEG * d["canthal_tilt"])
        self.iris_r = float(np.interp(age, [0, 2, 18], [10.0, 11.2, 11.8])) / 2 * ppm * 1.1
        self.nose_hw = m("nose_width", 1.4 * d["alar_width"]) * ppm / 2
        self.mouth_hw = m("mouth_width", d["mouth_width"]) * ppm / 2
        self.ear_len = m("ear_length", d["ear_length"]) * ppm
        self.neck_hw = m("neck_width") * ppm / 2
        self.asym = d["asymmetry"]

    def half_width(self, y: np.ndarray) -> np.ndarray:
        """Silhouette half-width (px) of the head at rows ``y`` (1D float32)."""
        if not hasattr(self, "_hw_rows"):
            rows = np.arange(self.S, dtype=np.float32)
            # smoothing removes the kinks where the outline's pieces meet (they would shade as creases)
            self._hw_rows = gaussian_filter1d(self._half_width_raw(rows), 0.02 * self.S, mode="nearest")
            self._hw_rows[rows > self.y_gn] = 0
        return np.interp(y, np.arange(self.S, dtype=np.float32), self._hw_rows).astype(np.float32)

    def _half_width_raw(self, y: np.ndarray) -> np.ndarray:
        y_w = self.y_n - 0.38 * (self.y_n - self.y_v)
        top = self.head_hw * np.sqrt(np.clip(1 - ((y_w - y) / (y_w - self.y_v)) ** 2, 0, 1))
        d = self.d
        cheek = 1 + 0.035 * d["cheek_fullness"] + 0.02 * d["face_roundness"]
        lower = self.y_gn - self.y_sto
        ky = np.array(
            [
                y_w,
                self.y_brow,
                self.y_eye + 0.12 * self.face_h,
                self.y_sn,
                self.y_sto,
                self.y_sto + 0.42 * lower,
                self.y_gn - 0.14 * lower,
                self.y_gn,
            ]
        )
        tri = d["face_triangular"]
        chin = self.mand_hw * (0.42 - 0.06 * d["chin_pointed"] + 0.04 * d["face_roundness"] - 0.05 * tri)
        kw = np.array(
            [
                self.head_hw,
                0.5 * (self.head_hw + max(self.fore_hw, self.face_hw)) * (0.99 + 0.02 * tri),
                self.face_hw,
                self.face_hw * 0.975 * cheek,
                max(self.mand_hw * 1.08, self.face_hw * self.soft) * cheek,
                max(self.mand_hw, self.face_hw * (self.soft - 0.12)),
                chin,
                0.0,
            ]
        )
        low = PchipInterpolator(ky[:5], kw[:5], extrapolate=False)(np.clip(y, ky[0], ky[4]))
        # below the mouth a superellipse: a rounded U that narrows to the chin (pointed chin: a V)
        t = np.clip((y - self.y_sto) / max(self.y_gn - self.y_sto, 1e-3), 0, 1)
        p = max(2.3 - 0.3 * d["chin_pointed"] + 0.2 * d["face_roundness"], 1.2)
        u_shape = kw[4] * np.power(np.clip(1 - t**p, 0, 1), 0.55 - 0.04 * d["chin_pointed"])
        low = np.where(y > self.y_sto, u_shape, low)
        out = np.where(y < y_w, top, low)
        out[y > self.y_gn] = 0
        return np.nan_to_num(out).astype(np.float32)

    # ------------------------------------------------------------------ geometry helpers
    def eye_points(self, side: int, n: int = 24):
        """Fissure outline of one eye: (upper (n, 2), lower (n, 2), pupil (2,)) in px.

        side: -1 for the child's right (image left), +1 for the child's left.
        """
        d = self.d
        drop = 0.8 * self.asym * self.ppm if side < 0 else 0.0
        tilt = self.tilt
        inner = np.array([self.cx + side * self.en_hd, self.y_eye + drop])
        length = self.ex_hd - self.en_hd
        outer = inner + np.array([side * length * np.cos(tilt), -length * np.sin(tilt)])
        t = np.linspace(0, 1, n, dtype=np.float32)[:, None]
        axis = inner + (outer - inner) * t
        normal = np.array([side * np.sin(tilt), np.cos(tilt)])  # points down (lower lid)
        opening = 1 + 0.1 * d["fissure_height"]
        h_up = length * (0.26 - 0.035 * max(d["ptosis"], 0) - 0.012 * min(d["ptosis"], 0)) * opening
        h_lo = length * 0.13 * (1 + 0.25 * d["lower_lid_eversion"]) * opening
        shape_up = np.sin(np.pi * t**0.85)
        shape_lo = np.sin(np.pi * t**1.15)
        upper = axis - normal * h_up * shape_up
        lower = axis + normal * h_lo * shape_lo
        pupil = np.array([self.cx + side * self.pupil_hd, 0.0])
        tp = abs(pupil[0] - inner[0]) / max(length * np.cos(tilt), 1e-3)
        pupil[1] = inner[1] - np.sin(tilt) * length * tp + 0.12 * self.iris_r
        if d["strabismus"] > 0 and side > 0:  # esotropia of the child's left eye
            pupil[0] -= side * 0.35 * self.iris_r * min(d["strabismus"], 1.5)
        return upper.astype(np.float32), lower.astype(np.float32), pupil.astype(np.float32)

    def mouth_points(self, n: int = 21):
        """Lip outlines: (upper lip top (n,2), mouth line (n,2), lower lip bottom (n,2)) in px."""
        d = self.d
        t = np.linspace(-1, 1, n, dtype=np.float32)
        hw = self.mouth_hw
        corner = (0.3 * max(-d["mouth_corners"], 0) - 0.15 * self.app.smile) * self.uv
        x = self.cx + t * hw
        asym = 0.6 * self.asym * self.ppm * t
        # the corners turn down over the outer third only; the midline fissure stays level
        line = self.y_sto + corner * np.clip((np.abs(t) - 0.45) / 0.55, 0, 1) ** 1.6 + asym
        tent = min(d["upper_lip_tented"], 1.5)
        line = line - tent * 0.35 * self.uv * np.exp(-((t / 0.3) ** 2))  # midline drawn up
        bow = np.exp(-(((np.abs(t) - 0.22) / 0.14) ** 2))  # Cupid's bow peaks
        dip = np.exp(-((t / 0.08) ** 2))
        bow_depth = 0.12 + 0.22 * min(d["cupids_bow"], 1.5)
        top = self.y_ls + (self.uv * (np.abs(t) ** 1.5) * 0.9) - bow_depth * self.uv * bow
        top = top + bow_depth * self.uv * dip + asym - tent * 0.3 * self.uv * np.exp(-((t / 0.3) ** 2))
        top = np.minimum(top, line - 0.05 * self.uv)
        bottom = line + self.lv * (1 - np.abs(t) ** 2) ** 0.8
        return (np.stack([x, top], 1), np.stack([x, line], 1), np.stack([x, bottom], 1))
