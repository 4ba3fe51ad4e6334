"""Frontal portrait renderer: a shaded height field of head, face, ears, hair, neck and shoulders.

The head is a height field z(x, y) in pixels (towards the camera): a rounded cranium and face
outline whose half-width per row follows the child's anthropometry, plus windowed Gaussian bumps
and ridges for brows, frontal bosses, eye sockets, eyeballs, nose, alae, philtral columns, lips,
chin, malar region and cheeks. Per-pixel normals from the height field are lit by a key light, a
fill light and a sky term, with wrapped diffuse shading for skin, Blinn-Phong highlights and an
ambient-occlusion term from the blurred height field, in linear light. Eyes (sclera, iris with
radial texture, pupil, catch-light), brows, lashes, lip colour, nostrils and hair are painted into
the albedo before shading or on top after it.

Anatomical sides: ``_r`` is the child's right, which appears on the image's left.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.ndimage import gaussian_filter1d

from .appearance import Appearance
from .norms import measure
from .raster import add_gauss, add_ridge, grid, over, polyline, soft_ellipse, soft_polygon, srgb_to_linear, value_noise

# Coefficients of variation used to turn an SD score into a size change, where the norms table
# has no direct measurement (fractions of the mean per SD).
_CV_TILT_DEG = 3.5  # canthal tilt SD in degrees; mean 4 deg upslant (Hall et al. 2007, Handbook)
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
        self.head_hw, self.face_hw, self.mand_hw = head_w / 2, face_w / 2, mand_w / 2
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
        self.nose_hw = m("nose_width", d["alar_width"]) * ppm / 2
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
        chin = self.mand_hw * (0.42 - 0.06 * d["chin_pointed"] + 0.04 * d["face_roundness"])
        kw = np.array(
            [
                self.head_hw,
                0.5 * (self.head_hw + max(self.fore_hw, self.face_hw)) * 0.99,
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
        h_up = length * (0.26 - 0.035 * max(d["ptosis"], 0) - 0.012 * min(d["ptosis"], 0))
        h_lo = length * 0.13 * (1 + 0.25 * d["lower_lid_eversion"])
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
        corner = (0.55 * max(-d["mouth_corners"], 0) - 0.15 * self.app.smile) * self.uv
        corner += -0.1 * min(d["mouth_corners"], 0) * 0
        x = self.cx + t * hw
        asym = 0.6 * self.asym * self.ppm * t
        line = self.y_sto + corner * np.abs(t) ** 2.2 + asym
        bow = np.exp(-(((np.abs(t) - 0.22) / 0.14) ** 2))  # Cupid's bow peaks
        dip = np.exp(-((t / 0.08) ** 2))
        top = self.y_ls + (1 - np.abs(t) ** 1.6) * 0 + (self.uv * (np.abs(t) ** 1.5) * 0.9) - 0.12 * self.uv * bow
        top = top + 0.12 * self.uv * dip + asym
        top = np.minimum(top, line - 0.05 * self.uv)
        bottom = line + self.lv * (1 - np.abs(t) ** 2) ** 0.8
        return (np.stack([x, top], 1), np.stack([x, line], 1), np.stack([x, bottom], 1))


def render_frontal(fr: Frontal, rng: np.random.Generator) -> tuple[np.ndarray, dict, dict]:
    """Draw the frontal portrait.

    Args:
        fr: the child's `Frontal` geometry.
        rng: generator for texture noise (seeded by the caller from the identity seed).

    Returns:
        image (S, S, 3) uint8 RGB, landmarks name -> (2,) float32 px, masks region -> (S, S) bool.
    """
    S, d, app, ppm = fr.S, fr.d, fr.app, fr.ppm
    Y, X = grid(S)
    shape = (S, S)
    rows = np.arange(S, dtype=np.float32)
    cx = fr.cx
    dx = X - cx

    # ---------------------------------------------------------------- head height field
    hw = fr.half_width(rows)
    hw_safe = np.maximum(hw, 1e-3)[:, None]
    u = dx / hw_safe
    inside = 1 - u * u
    flat = 0.55 - 0.05 * d["face_flatness"]
    z = hw_safe * 0.8 * np.power(np.clip(inside, 0, 1), flat)
    head_a = (np.clip((hw[:, None] - np.abs(dx)) + 0.5, 0, 1) * (hw[:, None] > 0.01 * S)).astype(np.float32)

    mm = ppm
    prj = 1 - 0.1 * d["face_flatness"]
    eye_l, eye_r = fr.eye_points(+1), fr.eye_points(-1)
    # forehead, frontal bosses, brow ridge
    fore_y = fr.y_n - 0.55 * (fr.y_n - fr.y_tr)
    for side in (-1, 1):
        add_gauss(
            z,
            cx + side * 0.45 * fr.fore_hw,
            fore_y,
            0.3 * fr.fore_hw,
            0.3 * fr.fore_hw,
            (1.5 + 1.6 * d["frontal_bossing"]) * mm,
        )
        add_ridge(
            z,
            (cx + side * 0.1 * fr.face_hw, fr.y_brow + 1.5 * mm),
            (cx + side * 0.62 * fr.face_hw, fr.y_brow),
            2.8 * mm,
            2.2 * mm * prj,
            1.2 * mm * prj,
        )
    for side, (up, _lo, pupil) in ((1, eye_l), (-1, eye_r)):
        ec = (up[0] + up[-1]) / 2
        L = fr.pfl
        add_gauss(z, ec[0], ec[1] - 0.1 * L, 0.62 * L, 0.5 * L, -(5.5 + 1.4 * d["eye_depth"]) * mm)
        add_gauss(z, pupil[0], pupil[1] + 0.05 * L, 0.36 * L, 0.22 * L, 2.6 * mm)
        full = max(d["periorbital_fullness"], 0) * 0.9 + 0.3
        add_gauss(z, ec[0], ec[1] + 0.34 * L, 0.45 * L, 0.13 * L, full * mm)
        add_gauss(z, ec[0] + side * 0.1 * L, ec[1] - 0.42 * L, 0.45 * L, 0.14 * L, (full - 0.1) * mm)
    # malar region, midface, cheeks
    y_zy = fr.y_eye + 0.12 * fr.face_h
    baby = float(np.interp(fr.age, [0, 2, 8], [1.6, 1.0, 0.0]))
    for side in (-1, 1):
        add_gauss(
            z,
            cx + side * 0.58 * fr.face_hw,
            y_zy,
            0.24 * fr.face_hw,
            0.2 * fr.face_hw,
            (2.4 + 1.1 * d["malar_prominence"]) * mm * prj,
        )
        add_gauss(
            z,
            cx + side * 0.56 * fr.face_hw,
            (fr.y_sn + fr.y_sto) / 2,
            0.28 * fr.face_hw,
            0.26 * fr.face_hw,
            (1.6 + 1.3 * d["cheek_fullness"] + baby) * mm,
        )
    add_gauss(
        z,
        cx,
        (fr.y_eye + fr.y_sn) / 2 + 0.1 * fr.nose_h,
        0.45 * fr.face_hw,
        0.35 * fr.nose_h,
        (1.4 * d["midface_projection"]) * mm,
    )
    # nose: bridge ridge, tip, alae, columella
    bridge_age = float(np.interp(fr.age, [0, 3, 12], [0.7, 0.85, 1.0]))
    bridge_h = max((4.0 + 1.5 * d["nasal_bridge_height"]) * bridge_age, 0.5) * mm * prj
    bridge_w = (0.26 + 0.045 * d["nasal_bridge_width"]) * fr.nose_hw * 2
    tip_y = fr.y_sn - (0.13 + 0.04 * d["nares_anteversion"]) * fr.nose_h
    tip_h = (0.38 * fr.nose_h / mm + 3.0) * mm * prj * (0.8 + 0.2 * bridge_age)
    add_ridge(z, (cx, fr.y_n + 0.05 * fr.nose_h), (cx, tip_y - 0.12 * fr.nose_h), bridge_w, bridge_h, tip_h * 0.8)
    tip_w = (0.3 + 0.045 * d["nasal_tip_width"]) * fr.nose_hw
    add_gauss(z, cx, tip_y, tip_w, 0.16 * fr.nose_h, tip_h * 0.45)
    for side in (-1, 1):
        add_gauss(
            z,
            cx + side * 0.66 * fr.nose_hw,
            fr.y_sn - 0.1 * fr.nose_h,
            0.3 * fr.nose_hw,
            0.13 * fr.nose_h,
            0.45 * tip_h,
        )
        add_gauss(
            z,
            cx + side * 1.02 * fr.nose_hw,
            fr.y_sn - 0.1 * fr.nose_h,
            0.1 * fr.nose_hw,
            0.16 * fr.nose_h,
            -0.2 * tip_h,
        )  # alar crease
    # philtral columns, lips, mentolabial sulcus, chin
    pdepth = max(0.7 + 0.35 * d["philtrum_depth"], 0.0) * mm
    for side in (-1, 1):
        add_ridge(
            z,
            (cx + side * 0.17 * fr.mouth_hw, fr.y_sn + 0.1 * (fr.y_ls - fr.y_sn)),
            (cx + side * 0.23 * fr.mouth_hw, fr.y_ls),
            0.06 * fr.mouth_hw,
            pdepth * 0.6,
            pdepth,
        )
    add_gauss(z, cx, (fr.y_sn + fr.y_ls) / 2, 0.6 * fr.mouth_hw, 0.8 * (fr.y_ls - fr.y_sn), 1.5 * mm * prj)
    add_gauss(z, cx, fr.y_ls + 0.5 * fr.uv, 0.62 * fr.mouth_hw, 0.7 * fr.uv, 2.2 * mm)
    add_gauss(z, cx, fr.y_sto + 0.5 * fr.lv, 0.58 * fr.mouth_hw, 0.7 * fr.lv, 2.6 * mm)
    lower = fr.y_gn - fr.y_li
    add_gauss(z, cx, fr.y_li + 0.32 * lower, 0.5 * fr.mouth_hw, 0.14 * lower, -1.3 * mm)
    add_gauss(
        z, cx, fr.y_gn - 0.3 * lower, 0.45 * fr.mand_hw, 0.25 * lower, (2.6 + 0.9 * d["mandible_length"]) * mm * prj
    )

    # ---------------------------------------------------------------- albedo (linear light)
    skin = srgb_to_linear(app.skin)
    albedo = np.empty((S, S, 3), np.float32)
    albedo[:] = skin
    tex = value_noise(shape, 24, rng) * 0.025 + value_noise(shape, 90, rng) * 0.015
    albedo *= (1 + tex)[..., None]
    albedo *= np.array([1.07, 0.97, 0.95], np.float32)  # haemoglobin: skin reflects more red than its swatch
    blush = soft_ellipse(shape, cx - 0.55 * fr.face_hw, (y_zy + fr.y_sn) / 2, 0.3 * fr.face_hw, 0.2 * fr.face_hw)
    blush += soft_ellipse(shape, cx + 0.55 * fr.face_hw, (y_zy + fr.y_sn) / 2, 0.3 * fr.face_hw, 0.2 * fr.face_hw)
    blush = cv2.GaussianBlur(blush, (0, 0), 0.12 * fr.face_hw)
    albedo *= 1 + blush[..., None] * np.array([0.05, -0.06, -0.05], np.float32) * (1 - 0.5 * app.skin.mean())

    spec = np.full(shape, 0.05, np.float32)
    # lips
    top, line, bottom = fr.mouth_points()
    upper_lip = soft_polygon(shape, np.concatenate([top, line[::-1]]), blur=0.3)
    lower_lip = soft_polygon(shape, np.concatenate([line, bottom[::-1]]), blur=0.4)
    lips = np.clip(upper_lip + lower_lip, 0, 1)
    lip_col = skin * np.array([0.74, 0.36, 0.37], np.float32) * (1 + 0.25 * skin.mean())
    over(albedo, lip_col, lips * 0.85)
    spec += lips * 0.08
    # nostrils: darker and slightly recessed; anteverted nares show more of them
    ant = max(d["nares_anteversion"], 0)
    for side in (-1, 1):
        nx, ny = cx + side * 0.36 * fr.nose_hw, fr.y_sn - (0.05 + 0.02 * ant) * fr.nose_h
        nost = soft_ellipse(shape, nx, ny, 0.22 * fr.nose_hw, (0.085 + 0.05 * ant) * fr.nose_hw, side * 18)
        nost = cv2.GaussianBlur(nost, (0, 0), 0.5)
        over(albedo, skin * 0.12, nost * 0.92)
        z -= nost * 1.2 * mm
    # open mouth, tongue
    if d["open_mouth"] >= 0.3 or d["protruding_tongue"] >= 0.3:
        gap = (0.3 + 0.35 * min(max(d["open_mouth"], d["protruding_tongue"] * 0.6), 1.5)) * fr.uv
        cav = soft_ellipse(shape, cx, fr.y_sto + 0.1 * gap, 0.62 * fr.mouth_hw, gap)
        over(albedo, np.array([0.08, 0.015, 0.015], np.float32), cav)
        if fr.age > 1.0:
            teeth = cav * np.clip((fr.y_sto - 0.35 * gap - Y) / (0.4 * gap) + 1, 0, 1) * (Y < fr.y_sto)
            over(albedo, np.array([0.75, 0.72, 0.66], np.float32), teeth * 0.8)
        z -= cav * 2.0 * mm
    if d["protruding_tongue"] >= 0.3:
        t_len = (0.5 + 0.5 * min(d["protruding_tongue"], 1.5)) * fr.lv
        tongue = soft_ellipse(shape, cx, fr.y_sto + 0.5 * t_len, 0.38 * fr.mouth_hw, 0.55 * t_len + 0.1 * fr.lv)
        over(albedo, skin * np.array([0.85, 0.42, 0.45], np.float32) + 0.03, tongue)
        add_gauss(z, cx, fr.y_sto + 0.5 * t_len, 0.3 * fr.mouth_hw, 0.4 * t_len, 1.5 * mm)
        spec += tongue * 0.15

    # eyes painted into the albedo (shaded with the eyeball bump)
    eye_cover = np.zeros(shape, np.float32)
    for side, (up, lo, pupil) in ((1, eye_l), (-1, eye_r)):
        fissure = soft_polygon(shape, np.concatenate([up, lo[::-1]]))
        eye_cover = np.maximum(eye_cover, fissure)
        _paint_eye(albedo, spec, fissure, up, pupil, fr, app, side, rng)
        if d["epicanthus"] >= 0.3:
            _epicanthus(albedo, z, up, lo, fr, side, skin, min(d["epicanthus"], 1.5))
        if d["lower_lid_eversion"] >= 0.3:
            n = len(lo)
            seg = lo[int(n * 0.6) :]
            ever = np.concatenate([seg, seg[::-1] + np.array([0, 0.12 * fr.pfl * min(d["lower_lid_eversion"], 1.5)])])
            over(albedo, np.array([0.55, 0.18, 0.17], np.float32), soft_polygon(shape, ever, blur=0.4) * 0.8)
    # brows
    brow_mask = np.zeros(shape, np.float32)
    for side, (up, _lo, _p) in ((1, eye_l), (-1, eye_r)):
        brow_mask = np.maximum(brow_mask, _brow(shape, fr, up, side))
    if d["synophrys"] >= 0.3:
        bridge = soft_ellipse(shape, cx, fr.y_brow + 0.04 * fr.pfl, 0.28 * fr.pfl, 0.1 * fr.pfl)
        brow_mask = np.maximum(brow_mask, cv2.GaussianBlur(bridge, (0, 0), 0.8) * 0.75 * min(d["synophrys"], 1.2))
    strands = np.clip(0.85 + 0.25 * value_noise(shape, S // 4, rng), 0.5, 1.0)
    brow_dens = float(np.interp(fr.age, [0, 2, 10], [0.45, 0.7, 0.9]))
    brow_col = srgb_to_linear(np.clip(np.minimum(app.hair * 0.7, app.skin * 0.3), 0, 1))
    over(albedo, brow_col, brow_mask * strands * brow_dens)

    # ---------------------------------------------------------------- ears (behind the head)
    ear_z = np.zeros(shape, np.float32)
    ear_a = np.zeros(shape, np.float32)
    ear_pts = {}
    for side in (-1, 1):
        e_top = fr.y_brow + 0.35 * (fr.y_eye - fr.y_brow) - 0.85 * d["ear_height"] * 0.07 * fr.ear_len
        e_top += 0.6 * fr.asym * mm * (side < 0)
        ecy = e_top + fr.ear_len / 2
        edge = float(fr.half_width(np.array([ecy], np.float32))[0])
        width = (0.3 + 0.07 * d["ear_protrusion"]) * fr.ear_len
        ecx = cx + side * (edge + 0.2 * width)
        ang = side * (8 + 4 * d["ear_rotation"])
        ea = soft_ellipse(shape, ecx, ecy, width * 0.62, fr.ear_len / 2, ang)
        if d["earlobe_uplift"] >= 0.3:
            ea = np.maximum(
                ea,
                soft_ellipse(
                    shape,
                    ecx + side * 0.25 * width,
                    ecy + 0.38 * fr.ear_len,
                    0.3 * width,
                    0.14 * fr.ear_len,
                    -side * 35,
                ),
            )
        ear_a = np.maximum(ear_a, ea)
        add_gauss(ear_z, ecx, ecy, width * 0.5, fr.ear_len * 0.4, 0.25 * width)
        add_gauss(
            ear_z, ecx - side * 0.1 * width, ecy + 0.05 * fr.ear_len, width * 0.2, fr.ear_len * 0.15, -0.18 * width
        )
        ear_pts[side] = (np.array([ecx, e_top], np.float32), np.array([ecx, e_top + fr.ear_len], np.float32))
    ear_z += 0.4 * fr.face_hw

    # ---------------------------------------------------------------- neck, shoulders
    neck_top = fr.y_sto
    web = min(d["webbed_neck"], 1.5)
    shoulder_y = fr.y_gn + (0.03 + 0.06 * min(fr.age, 14) / 14) * S
    nhw = np.full(S, fr.neck_hw, np.float32)
    if web >= 0.3:
        prog = np.clip((rows - fr.y_gn + 0.05 * S) / (shoulder_y - fr.y_gn + 0.05 * S), 0, 1)
        nhw = nhw + web * 0.55 * fr.neck_hw * np.clip(np.sin(np.pi * prog), 0, 1) ** 0.7 * (rows > fr.y_sto)
    nhw = nhw + np.clip(rows - shoulder_y + 0.03 * S, 0, None) ** 1.5 * 0.15
    neck_a = np.clip((nhw[:, None] - np.abs(dx)) + 0.5, 0, 1) * (Y > neck_top)
    neck_z = nhw[:, None] * 0.8 * np.sqrt(np.clip(1 - (dx / nhw[:, None]) ** 2, 0, 1)) + 0.15 * fr.face_hw
    sh_cy = shoulder_y + 0.55 * S * 0.45
    sh_rx = float(np.interp(fr.age, [0, 6, 18], [0.36, 0.46, 0.56])) * S
    shirt_a = soft_ellipse(shape, cx, sh_cy, sh_rx, 0.45 * S * 0.55)
    shirt_z = np.sqrt(np.clip(1 - ((X - cx) / sh_rx) ** 2 - ((Y - sh_cy) / (0.3 * S)) ** 2, 0, 1)) * 0.25 * S
    neckline = soft_ellipse(shape, cx, shoulder_y, 1.35 * fr.neck_hw, 0.16 * S)
    shirt_a = shirt_a * (1 - neckline)

    # ---------------------------------------------------------------- hair
    hair_a, hair_z, hair_alb = _hair(fr, shape, rows, hw, z, rng)

    # ---------------------------------------------------------------- compose buffers
    Z = np.zeros(shape, np.float32)
    A = np.zeros((S, S, 3), np.float32)
    SP = np.zeros(shape, np.float32)
    cover = np.zeros(shape, np.float32)
    skin_lin = skin
    layers = [
        (hair_a * (Y > fr.y_eye) * app.long_hair, hair_z - 0.6 * fr.face_hw, hair_alb, 0.05),
        (neck_a, neck_z, skin_lin, 0.04),
        (shirt_a, shirt_z + 0.3 * fr.face_hw, srgb_to_linear(app.shirt), 0.03),
        (ear_a, ear_z, skin_lin * np.array([1.0, 0.93, 0.92], np.float32), 0.05),
        (head_a, z + 0.5 * fr.face_hw, albedo, spec),
        (
            hair_a * (Y <= fr.y_eye + 0 * S) + hair_a * (Y > fr.y_eye) * (1 - app.long_hair) * 1.0,
            hair_z + 0.5 * fr.face_hw,
            hair_alb,
            0.05,
        ),
    ]
    for a, zz, alb, sp in layers:
        Z *= 1 - a
        Z += zz * a
        over(A, alb, a)
        SP *= 1 - a
        SP += sp * a
        cover = np.maximum(cover, a)

    img = _shade(Z, A, SP, app, fr, cover)
    img *= _exposure(img, head_a)
    # lashes, lid lines after shading (thin dark strokes)
    for side, (up, lo, _pupil) in ((1, eye_l), (-1, eye_r)):
        _lashes(img, up, lo, fr, app, side)
    if d["open_mouth"] < 0.3 and d["protruding_tongue"] < 0.3:
        polyline(img, line, (0.06, 0.02, 0.02), max(0.012 * S * 0.5, 1))

    bg = _backdrop(shape, app, cx, fr.y_eye)
    out = bg * (1 - cover[..., None]) + img * cover[..., None]
    out = cv2.GaussianBlur(out, (0, 0), 0.35 + S / 900)
    out += rng.standard_normal((S, S, 1)).astype(np.float32) * 0.008
    out = np.power(np.clip(out, 0, 1), 1 / 2.2)

    lm = {
        "pupil_r": eye_r[2],
        "pupil_l": eye_l[2],
        "endocanthion_r": eye_r[0][0],
        "exocanthion_r": eye_r[0][-1],
        "endocanthion_l": eye_l[0][0],
        "exocanthion_l": eye_l[0][-1],
        "nasion": np.array([cx, fr.y_n]),
        "pronasale": np.array([cx, tip_y]),
        "subnasale": np.array([cx, fr.y_sn]),
        "alare_r": np.array([cx - fr.nose_hw, fr.y_sn - 0.1 * fr.nose_h]),
        "alare_l": np.array([cx + fr.nose_hw, fr.y_sn - 0.1 * fr.nose_h]),
        "labiale_superius": np.array([cx, float(top[len(top) // 2, 1])]),
        "stomion": line[len(line) // 2],
        "labiale_inferius": bottom[len(bottom) // 2],
        "cheilion_r": line[0],
        "cheilion_l": line[-1],
        "gnathion": np.array([cx, fr.y_gn]),
        "trichion": np.array([cx, fr.y_tr]),
        "zygion_r": np.array([cx - fr.face_hw, y_zy]),
        "zygion_l": np.array([cx + fr.face_hw, y_zy]),
        "superaurale_r": ear_pts[-1][0],
        "subaurale_r": ear_pts[-1][1],
        "superaurale_l": ear_pts[1][0],
        "subaurale_l": ear_pts[1][1],
        "vertex": np.array([cx, fr.y_v]),
    }
    masks = _regions(fr, shape, Y, X, head_a, hair_a, ear_a, brow_mask, eye_cover, lips, y_zy)
    image, lm, masks = _roll(out, lm, masks, app.roll, (cx, fr.y_eye))
    return image, lm, masks


def _paint_eye(albedo, spec, fissure, up, pupil, fr: Frontal, app: Appearance, side: int, rng) -> None:
    S = fr.S
    shape = fissure.shape
    r = fr.iris_r
    px, py = float(pupil[0]), float(pupil[1])
    sclera = srgb_to_linear(np.array([0.84, 0.82, 0.79], np.float32))
    # in photographs the sclera sits in the lids' shadow: it reads darker next to darker skin
    over(albedo, sclera * (0.55 + 0.45 * float(app.skin.mean())), fissure)
    # iris with a radial texture, darker limbal ring, pupil
    x0, x1 = int(max(px - r - 2, 0)), int(min(px + r + 3, S))
    y0, y1 = int(max(py - r - 2, 0)), int(min(py + r + 3, S))
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - py
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] - px
    rad = np.sqrt(xs * xs + ys * ys) / r
    ang = np.arctan2(ys, xs)
    iris_a = np.clip((1 - rad) * r + 0.5, 0, 1)
    col = srgb_to_linear(app.eye)
    phase = float(rng.uniform(0, 6.28))
    radial = 0.78 + 0.22 * np.sin(ang * 23 + phase) * np.sin(ang * 7 + 1.3 * phase)
    shade = radial * (0.7 + 0.45 * rad) * np.where(rad > 0.82, 0.45, 1.0)
    iris = col[None, None, :] * shade[..., None]
    d = fr.d
    if d["stellate_iris"] >= 0.3:
        star = (np.cos(ang * 8) > 0.55) & (rad > 0.3) & (rad < 0.75)
        iris = np.where(star[..., None], iris * 1.8 + 0.05, iris)
    if d["brushfield_spots"] >= 0.3:
        spots = (np.cos(ang * 14 + 0.5) > 0.82) & (np.abs(rad - 0.68) < 0.07)
        iris = np.where(spots[..., None], np.array([0.62, 0.62, 0.6], np.float32), iris)
    pupil_a = np.clip((0.36 - rad) * r + 0.5, 0, 1)
    iris = iris * (1 - pupil_a[..., None]) + 0.012 * pupil_a[..., None]
    win = (slice(y0, y1), slice(x0, x1))
    a = iris_a * fissure[win]
    albedo[win] = albedo[win] * (1 - a[..., None]) + iris * a[..., None]
    spec[win] += a * 0.05
    # shadow of the upper lid on the eyeball
    yy = np.arange(shape[0], dtype=np.float32)[:, None]
    up_y = float(up[:, 1].min())
    lid = np.clip(1 - (yy - up_y) / (0.35 * fr.pfl * 0.36 + 1e-3), 0, 1) * fissure
    albedo *= (1 - 0.55 * lid)[..., None]


def _epicanthus(albedo, z, up, lo, fr: Frontal, side: int, skin, amount: float) -> None:
    n = len(up)
    k = max(int(n * (0.12 + 0.08 * amount)), 2)
    inner = up[0]
    fold = np.concatenate(
        [
            up[:k] + np.array([0, -0.02 * fr.pfl]),
            lo[: max(k // 2, 2)][::-1] + np.array([0, 0.05 * fr.pfl]),
            [inner + np.array([-side * 0.06 * fr.pfl, 0.05 * fr.pfl])],
        ]
    )
    a = soft_polygon(albedo.shape, fold, blur=0.4)
    over(albedo, skin, a)
    z += a * 0.8 * fr.ppm


def _brow(shape, fr: Frontal, up, side: int) -> np.ndarray:
    d = fr.d
    L = fr.pfl
    inner_x = up[0, 0] - side * 0.1 * L
    outer_x = up[-1, 0] + side * 0.22 * L
    n = 16
    t = np.linspace(0, 1, n, dtype=np.float32)
    x = inner_x + (outer_x - inner_x) * t
    arch = (0.16 + 0.07 * d["brow_arch"]) * L
    base = fr.y_brow + 0.05 * L - (up[-1, 1] - up[0, 1]) * 0.3 * t
    yc = base - arch * np.sin(np.pi * np.clip(t * 0.9 + 0.05, 0, 1)) + 0.12 * L * t**3
    thick = (0.2 + 0.04 * d["brow_thickness"]) * L * (1.15 - 0.75 * t)
    flare = max(d["brow_medial_flare"], 0) * 0.35 * L * np.exp(-((t / 0.18) ** 2))
    top = np.stack([x, yc - thick / 2 - flare], 1)
    bot = np.stack([x, yc + thick / 2], 1)
    return soft_polygon(shape, np.concatenate([top, bot[::-1]]), blur=0.6 + fr.S / 400)


def _lashes(img, up, lo, fr: Frontal, app: Appearance, side: int) -> None:
    d = fr.d
    S = fr.S
    dark = (0.03, 0.025, 0.022)
    polyline(img, up, dark, max(S / 160, 1))
    polyline(img, lo, (0.35, 0.22, 0.2), max(S / 500, 1))
    length = (0.075 + 0.045 * max(d["lash_length"], -1)) * fr.pfl
    if length > 0.5:
        for i in range(len(up) // 3, len(up) - 1, 2):
            p = up[i]
            t = i / (len(up) - 1)
            direction = np.array([side * (0.3 + 1.2 * t), -1.0])
            direction /= np.linalg.norm(direction)
            q = p + direction * length * (0.7 + 0.5 * t)
            polyline(img, np.stack([p, q]), dark, max(S / 600, 1))
    # catch-light of the key light on the cornea
    _, _, pupil = fr.eye_points(side)
    cl = pupil + np.array([-0.3, -0.35]) * fr.iris_r
    r = max(0.14 * fr.iris_r, 0.6)
    cv2.circle(img, (int(cl[0] * 16), int(cl[1] * 16)), int(r * 16), (0.95, 0.95, 0.95), -1, cv2.LINE_AA, 4)
    # eyelid crease above the upper lid
    crease = up + np.array([side * 0.02 * fr.pfl, -0.13 * fr.pfl])
    k = len(up)
    base = img[int(np.clip(crease[k // 2, 1] - 2, 0, S - 1)), int(np.clip(crease[k // 2, 0], 0, S - 1))]
    polyline(img, crease[k // 4 : -3], tuple(float(c) * 0.75 for c in base), max(S / 500, 1))


def _hair(fr: Frontal, shape, rows, hw, z_head, rng):
    S = fr.S
    Y, X = grid(S)
    cx = fr.cx
    dx = X - cx
    infant = float(np.interp(fr.age, [0, 1.5, 3], [0.45, 0.85, 1.0]))
    vol = (0.03 + 0.07 * infant) * fr.head_hw
    top_y = fr.y_v - vol * 1.3
    y_w = fr.y_n - 0.38 * (fr.y_n - fr.y_v)
    ell = (fr.head_hw + vol) * np.sqrt(np.clip(1 - ((y_w - rows) / (y_w - top_y)) ** 2, 0, 1))
    if fr.app.long_hair:
        # hair falls behind the ears to below the jaw, widening slightly, with a rounded end
        length = min(fr.y_gn + (0.02 + 0.012 * fr.age) * S, 0.97 * S)
        t = np.clip((rows - y_w) / max(length - y_w, 1), 0, 1)
        fall = (fr.head_hw + vol) * (1 + 0.12 * t) * np.sqrt(np.clip(1 - t**6, 0, 1))
        hw_h = np.where(rows < y_w, ell, fall)
    else:
        short_end = fr.y_eye + 0.02 * fr.face_h
        t = np.clip((rows - y_w) / max(short_end - y_w, 1), 0, 1)
        hw_h = np.where(rows < y_w, ell, (fr.head_hw + vol * (1 - t)) * np.sqrt(np.clip(1 - t**4, 0, 1)))
    base = gaussian_filter1d(hw_h.astype(np.float32), 0.01 * S)
    hw_h = np.where(base > 0.02 * S, base + value_noise((S, 1), 40, rng)[:, 0] * 0.002 * S, base)
    hw_h = np.clip(hw_h, 0, None).astype(np.float32)
    # hairline: trichion in the midline, down to the temples and in front of the ears
    ax = np.abs(dx) / np.maximum(fr.head_hw, 1)
    temple_y = fr.y_brow - 0.03 * fr.face_h
    line = fr.y_tr + (temple_y - fr.y_tr) * np.clip(ax / 0.78, 0, 1) ** 2.4
    line = np.where(ax > 0.78, temple_y + (ax - 0.78) * 2.2 * fr.face_h, line)
    line = gaussian_filter1d(line, 0.02 * S, axis=1)
    line = line + value_noise(shape, 20, rng) * 0.01 * S
    in_h = np.clip((hw_h[:, None] - np.abs(dx)) + 0.5, 0, 1) * (hw_h[:, None] > 0.01 * S)
    above = np.clip((line - Y) / (0.012 * S) + 0.5, 0, 1)
    alpha = cv2.GaussianBlur(in_h * above, (0, 0), 0.6 + S / 512) * (0.55 + 0.45 * infant)
    u = np.clip(np.abs(dx) / np.maximum(hw_h[:, None], 1e-3), 0, 1)
    z = np.maximum(hw_h[:, None], 1e-3) * 0.8 * np.sqrt(1 - u * u) + vol * 0.5
    strands = (
        value_noise(shape, S // 4, rng) * 0.3
        + cv2.resize(rng.standard_normal((6, S)).astype(np.float32), (S, S), interpolation=cv2.INTER_CUBIC) * 0.6
    )
    alb = srgb_to_linear(fr.app.hair)[None, None, :] * np.clip(1 + 0.15 * strands, 0.6, 1.4)[..., None]
    return alpha.astype(np.float32), z.astype(np.float32), alb.astype(np.float32)


def _shade(Z, A, SP, app: Appearance, fr: Frontal, cover) -> np.ndarray:
    gy, gx = np.gradient(Z)
    n = np.stack([-gx, -gy, np.ones_like(Z)], -1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    key = app.light
    fill = np.array([0.55, -0.05, 0.83], np.float32)
    fill /= np.linalg.norm(fill)
    nk = n @ key
    wrap = 0.2
    diff = np.clip((nk + wrap) / (1 + wrap), 0, 1)
    fill_d = np.clip(n @ fill, 0, 1)
    sky = 0.6 + 0.4 * np.clip(-n[..., 1], -1, 1)
    blur = cv2.GaussianBlur(Z, (0, 0), 0.02 * fr.S + 1)
    ao = np.clip(1 - 0.02 * np.clip(blur - Z, 0, None) * (256 / fr.S), 0.55, 1)
    light = (0.78 * diff + 0.16 * fill_d + 0.14 * sky) * ao
    # subsurface-like warm tint in the penumbra of skin
    tint = 1 + (1 - diff)[..., None] * np.array([0.08, -0.02, -0.05], np.float32) * diff[..., None] * 2
    h = key + np.array([0, 0, 1], np.float32)
    h /= np.linalg.norm(h)
    spec = SP * np.power(np.clip(n @ h, 0, 1), 24) * ao
    return A * light[..., None] * tint + spec[..., None] * 0.9


def _exposure(img: np.ndarray, face: np.ndarray) -> float:
    """Camera auto-exposure on the face: brighten dark skin the way a metered portrait does.

    Photographers expose for the face; without it, darker skin tones render underexposed and lose
    the detail that people (and face detectors) rely on. Partial compensation keeps skin tones
    distinct: the square root of the ratio to a mid-grey target, within [1.1, 3.6].
    """
    w = face > 0.5
    lum = float((img[w] @ np.array([0.2126, 0.7152, 0.0722], np.float32)).mean()) if w.any() else 0.18
    return float(np.clip(np.sqrt(0.22 / max(lum, 1e-4)), 1.1, 3.6))


def _backdrop(shape, app: Appearance, cx: float, cy: float) -> np.ndarray:
    S = shape[0]
    Y, X = grid(S)
    top, bottom = srgb_to_linear(app.backdrop[0]), srgb_to_linear(app.backdrop[1])
    t = (Y / S)[..., None]
    bg = top * (1 - t) + bottom * t
    glow = np.exp(-(((X - cx) / (0.45 * S)) ** 2 + ((Y - cy) / (0.5 * S)) ** 2))
    return (bg * (0.85 + 0.3 * glow[..., None])).astype(np.float32)


def _regions(fr: Frontal, shape, Y, X, head_a, hair_a, ear_a, brow_mask, eye_cover, lips, y_zy) -> dict:
    cx = fr.cx
    head = head_a > 0.5
    hair = hair_a > 0.5
    face = head & ~hair
    eyes = np.zeros(shape, bool)
    for side in (-1, 1):
        ex = cx + side * fr.pupil_hd
        eyes |= ((X - ex) / (0.85 * fr.pfl)) ** 2 + ((Y - fr.y_eye) / (0.5 * fr.pfl)) ** 2 < 1
    brows = (cv2.dilate((brow_mask > 0.3).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & face & ~eyes
    nose = (
        (np.abs(X - cx) < fr.nose_hw * (0.45 + 0.75 * np.clip((Y - fr.y_n) / max(fr.nose_h, 1), 0, 1)))
        & (Y > fr.y_n)
        & (Y < fr.y_sn + 0.02 * fr.S)
        & face
        & ~eyes
    )
    mouth = (
        (
            ((X - cx) / (1.15 * fr.mouth_hw)) ** 2
            + ((Y - (fr.y_sn + fr.y_li) / 2) / (0.62 * (fr.y_li - fr.y_sn) + 1)) ** 2
            < 1
        )
        & face
        & ~nose
    )
    chin = face & (Y > fr.y_li) & ~mouth
    forehead = face & (Y < fr.y_brow + 0.02 * fr.S) & ~brows & ~eyes
    cheeks = face & ~(eyes | brows | nose | mouth | chin | forehead)
    ears = (ear_a > 0.5) & ~head
    return {
        "forehead": forehead,
        "brows": brows,
        "eyes": eyes,
        "nose": nose,
        "mouth": mouth,
        "cheeks": cheeks,
        "chin": chin,
        "ears": ears,
        "hair": hair,
    }


def _roll(img, lm: dict, masks: dict, angle: float, centre) -> tuple[np.ndarray, dict, dict]:
    S = img.shape[0]
    rot = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, 1.0)
    img = cv2.warpAffine(img, rot, (S, S), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    image = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    lm = {k: (rot[:, :2] @ np.asarray(v, np.float64) + rot[:, 2]).astype(np.float32) for k, v in lm.items()}
    masks = {k: cv2.warpAffine(v.astype(np.uint8), rot, (S, S), flags=cv2.INTER_NEAREST) > 0 for k, v in masks.items()}
    return image, lm, masks
