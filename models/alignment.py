"""Image reading and face alignment, shared by every package: any face image to one aligned 112 x 112 crop.

The classifier (training, evaluation, saliency, the app), the generator (its training crops and
privacy audit) and the benchmarks all go through `load_rgb` and `preprocess`, so a render, a
diffusion sample and an uploaded photograph are read and aligned the same way:

1. read the image (path, bytes, PIL image or array), honouring its EXIF orientation, as RGB;
2. find the eye centres and the mouth centre: from MediaPipe Face Mesh (offline, the models ship
   with ``mediapipe==0.10.21``; iris centres 468/473 with ``refine_landmarks=True``, mouth corners
   61/291), or from landmarks the caller already has (a render's ``pupil_l``, ``pupil_r``,
   ``cheilion_l``, ``cheilion_r``);
3. fit the similarity transform (rotation, uniform scale, translation; Umeyama 1991) that maps
   these three points onto `TEMPLATE_112`, and warp the image with it into 112 x 112 pixels.

The template is the 5-point ArcFace template used for 112 x 112 face crops (Deng et al. 2019,
InsightFace), reduced to its eye centres and the mid-point of its mouth corners; GestaltMatcher
(Hsieh et al. 2022, Nat Genet) aligns its 112 x 112 inputs the same way. Normalisation
(mean / std) is not applied here: it belongs to the model and is read from its saved config.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

#: Output width and height in pixels.
CROP_SIZE = 112
#: (3, 2) float64 target (x, y) in pixels of a 112 x 112 crop: subject's right eye (image left),
#: subject's left eye, mouth centre. From the ArcFace template (mouth = mean of its two corners).
TEMPLATE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.1396, 92.2848]], dtype=np.float64)
#: Smallest image side we try to find a face in, in pixels.
MIN_SIDE = 32
#: Face Mesh runs on a copy whose longer side is at most this many pixels (the mesh works at 192 px).
DETECT_MAX_SIDE = 1024
#: Largest image we decode, in pixels (width x height), checked from the file's header before any
#: decoding: 40 megapixels holds any phone or studio portrait (a 48 MP phone saves 12 MP by default);
#: a "decompression bomb" of a few hundred KB claiming 20,000 x 20,000 pixels is refused instead of
#: filling gigabytes.
MAX_PIXELS = 40_000_000
#: Largest decoded size in bytes, also checked from the header: 40 megapixels of 8-bit RGB. A 16- or
#: 32-bit grey image (2 or 4 bytes a pixel, then a float32 copy) is held to fewer pixels.
MAX_DECODED_BYTES = 3 * MAX_PIXELS
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "LA": 2, "PA": 2, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}

# Face Mesh indices (canonical topology, refine_landmarks=True).
_IRIS_R, _IRIS_L = 468, 473  # iris centres; _R is the subject's right eye, on the image's left
_MOUTH_R, _MOUTH_L = 61, 291  # mouth corners

ImageInput = str | os.PathLike | bytes | Image.Image | np.ndarray


@dataclass
class AlignedFace:
    """A face aligned to the classifier template.

    Attributes:
        image: (112, 112, 3) uint8 RGB aligned crop.
        matrix: (2, 3) float64 similarity transform from source pixels to crop pixels.
        source_size: (width, height) of the source image in pixels, after EXIF rotation.
        mesh: (478, 2) float64 Face Mesh landmarks in crop pixels, or None when the caller gave
            landmarks and detection was skipped.
    """

    image: np.ndarray
    matrix: np.ndarray
    source_size: tuple[int, int]
    mesh: np.ndarray | None = None


def load_rgb(image: ImageInput) -> np.ndarray:
    """Read an image as RGB, honouring EXIF orientation.

    Args:
        image: a file path, encoded bytes, a PIL image, or an array (H, W) gray or (H, W, 3|4)
            RGB(A), uint8 (or float in [0, 1]).

    Returns:
        (H, W, 3) uint8 RGB array. Transparent pixels of RGBA input are composited on white;
        16-bit grey images are scaled to 8 bits.

    Raises:
        ValueError: the file cannot be read or decoded (missing, truncated, not an image), the image
            has more than `MAX_PIXELS` pixels (checked before decoding), or the array has an
            unsupported shape.
    """
    if isinstance(image, np.ndarray):
        arr = image
        if arr.dtype != np.uint8:
            arr = (np.clip(arr.astype(np.float64), 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
        if arr.ndim == 2:
            arr = np.repeat(arr[:, :, None], 3, axis=2)
        if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
            raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image array, got shape {arr.shape}")
        if arr.shape[2] == 1:
            arr = np.repeat(arr, 3, axis=2)
        if arr.shape[2] == 4:
            return _flatten_alpha(Image.fromarray(arr, "RGBA"))
        return np.ascontiguousarray(arr)
    try:
        if isinstance(image, Image.Image):
            pil = image
        elif isinstance(image, bytes):
            pil = Image.open(io.BytesIO(image))
        else:
            pil = Image.open(Path(image))
        _check_pixels(*pil.size, pil.mode)  # from the header: nothing is decoded yet
        pil.load()  # decode now, so a truncated file fails here
        pil = ImageOps.exif_transpose(pil)
    except Image.DecompressionBombError:  # Pillow's own header check, at twice its 89-megapixel default
        raise ValueError(
            _TOO_LARGE.format(size=f"over {2 * Image.MAX_IMAGE_PIXELS // 1_000_000} megapixels")
        ) from None
    except (OSError, UnidentifiedImageError, SyntaxError) as e:
        raise ValueError(f"could not read the image: {e}") from e
    if pil.mode in ("RGBA", "LA", "PA") or (pil.mode == "P" and "transparency" in pil.info):
        return _flatten_alpha(pil.convert("RGBA"))
    if pil.mode.startswith("I"):  # 16- or 32-bit grey: Pillow's convert("RGB") clips it to white
        grey = np.asarray(pil, dtype=np.float32)  # one float32 copy, scaled in place
        grey *= 255.0 / (65535.0 if grey.max() > 255 else 255.0)
        np.clip(np.rint(grey, out=grey), 0, 255, out=grey)
        return np.repeat(grey.astype(np.uint8)[:, :, None], 3, axis=2)
    return np.asarray(pil.convert("RGB"))


_TOO_LARGE = (
    f"the image is {{size}}, more than PhenoFace reads (at most {MAX_PIXELS // 1_000_000} megapixels of 8-bit "
    "colour, fewer at 16 or 32 bits); resize it first (a face needs well under 1 megapixel)"
)


def _check_pixels(width: int, height: int, mode: str) -> None:
    decoded = width * height * _BYTES_PER_PIXEL.get(mode, 4)  # RGB(A), CMYK, 32-bit grey, float: 3-4 bytes
    if width * height > MAX_PIXELS or decoded > MAX_DECODED_BYTES:
        raise ValueError(_TOO_LARGE.format(size=f"{width} x {height} pixels in mode {mode}"))


def _flatten_alpha(pil: Image.Image) -> np.ndarray:
    white = Image.new("RGBA", pil.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, pil).convert("RGB"))


class _Mesh:
    """One shared MediaPipe Face Mesh (building it costs ~100 ms); calls are serialised by a lock."""

    _instance: _Mesh | None = None
    _create_lock = threading.Lock()

    def __init__(self) -> None:
        import mediapipe as mp  # heavy import, only where used

        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, refine_landmarks=True, max_num_faces=2, min_detection_confidence=0.5
        )
        self._lock = threading.Lock()

    @classmethod
    def get(cls) -> _Mesh:
        with cls._create_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def __call__(self, rgb: np.ndarray) -> list[np.ndarray]:
        """All faces found: a list of (478, 2) float64 landmark arrays in pixels of `rgb`."""
        h, w = rgb.shape[:2]
        with self._lock:
            result = self._mesh.process(np.ascontiguousarray(rgb))
        faces = result.multi_face_landmarks or []
        return [np.array([(p.x * w, p.y * h) for p in face.landmark], dtype=np.float64) for face in faces]


def detect_landmarks(rgb: np.ndarray) -> np.ndarray:
    """Find exactly one face and return its Face Mesh landmarks.

    Args:
        rgb: (H, W, 3) uint8 RGB image.

    Returns:
        (478, 2) float64 landmarks (x, y) in pixels of `rgb`.

    Raises:
        ValueError: the image is smaller than `MIN_SIDE`, or holds no face, or several faces.
    """
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"image too small to find a face: {w} x {h} pixels (at least {MIN_SIDE} needed)")
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = (
        rgb if scale == 1.0 else cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    )
    faces = _Mesh.get()(small)
    if not faces:
        raise ValueError("no face found in the image: use a frontal portrait with the whole face visible")
    if len(faces) > 1:
        raise ValueError(f"several faces ({len(faces)}) found in the image: crop it to one child's face")
    return faces[0] / scale


def anchor_points(landmarks: Mapping[str, np.ndarray] | np.ndarray) -> np.ndarray:
    """The three alignment points of a face, in the order of `TEMPLATE_112`.

    Args:
        landmarks: either a render's named landmarks (``pupil_r``, ``pupil_l``, ``cheilion_r``,
            ``cheilion_l``, each (2,) px) or (478, 2) Face Mesh landmarks in pixels.

    Returns:
        (3, 2) float64: right eye centre, left eye centre, mouth centre (x, y) in pixels.

    Raises:
        ValueError: a named landmark is missing.
    """
    if isinstance(landmarks, np.ndarray):
        lm = landmarks
        return np.array([lm[_IRIS_R], lm[_IRIS_L], (lm[_MOUTH_R] + lm[_MOUTH_L]) / 2], dtype=np.float64)
    missing = {"pupil_r", "pupil_l", "cheilion_r", "cheilion_l"} - set(landmarks)
    if missing:
        raise ValueError(f"landmarks lack {', '.join(sorted(missing))}")
    get = {k: np.asarray(v, dtype=np.float64) for k, v in landmarks.items()}
    return np.array([get["pupil_r"], get["pupil_l"], (get["cheilion_r"] + get["cheilion_l"]) / 2])


#: Face Mesh indices of the nose tip and the outer eye corners (exocanthion right, left).
_NOSE_TIP, _EXO_R, _EXO_L = 1, 33, 263

#: `head_turn` above this is a face turned away from the camera. Measured on PhenoFace renders with
#: MediaPipe: frontal views 0.00-0.02 (|value|), profile views 1.16-1.27; about 0.35 is a turn of some
#: 20 degrees, past which the frontal classifier and its maps no longer apply.
TURNED_HEAD = 0.35


def head_turn(mesh: np.ndarray) -> float:
    """How far the face is turned from frontal: the nose tip's sideways offset from the midpoint of the
    outer eye corners, in units of the outer-canthal distance (0 frontal; about 1.2 in profile).

    Args:
        mesh: (478, 2) Face Mesh landmarks in pixels (any frame: the ratio does not depend on scale).

    Returns:
        Absolute offset, dimensionless.
    """
    mid = (mesh[_EXO_R] + mesh[_EXO_L]) / 2
    span = float(np.linalg.norm(mesh[_EXO_L] - mesh[_EXO_R]))
    return abs(float(mesh[_NOSE_TIP, 0] - mid[0])) / max(span, 1e-6)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (Umeyama 1991) taking `src` points onto `dst` points.

    Args:
        src: (N, 2) points, N >= 2.
        dst: (N, 2) points.

    Returns:
        (2, 3) float64 matrix M with ``dst ~= src @ M[:, :2].T + M[:, 2]``; no reflection.
    """
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    s, d = src - src_mean, dst - dst_mean
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rot = u @ sign @ vt
    var = (s**2).sum() / len(src)
    scale = float(np.trace(np.diag(sig) @ sign) / var) if var > 0 else 1.0
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = dst_mean - m[:, :2] @ src_mean
    return m


def align_face(
    image: ImageInput,
    landmarks: Mapping[str, np.ndarray] | None = None,
    size: int = CROP_SIZE,
) -> AlignedFace:
    """Align a face to the classifier template; like `preprocess` but also returns the transform.

    Args:
        image: see `load_rgb`.
        landmarks: a render's named landmarks (see `anchor_points`) in pixels of `image`; when
            given, face detection is skipped.
        size: crop width and height in pixels; the template scales with it (112 is the convention).

    Returns:
        `AlignedFace` with the crop and the source-to-crop transform.

    Raises:
        ValueError: unreadable image, image too small, no face or several faces.
    """
    rgb = load_rgb(image)
    mesh = None
    if landmarks is None:
        mesh = detect_landmarks(rgb)
        src = anchor_points(mesh)
    else:
        src = anchor_points(landmarks)
    matrix = similarity_transform(src, TEMPLATE_112 * (size / CROP_SIZE))
    scale = float(np.hypot(matrix[0, 0], matrix[0, 1]))
    src_img, warp = rgb, matrix
    if scale < 0.5:  # shrink with area averaging first, so a large photo does not alias
        h, w = rgb.shape[:2]
        fx, fy = max(1, round(w * scale)) / w, max(1, round(h * scale)) / h
        src_img = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        warp = matrix.copy()
        warp[:, 0] /= fx
        warp[:, 1] /= fy
    crop = cv2.warpAffine(src_img, warp, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    crop_mesh = None if mesh is None else mesh @ matrix[:, :2].T + matrix[:, 2]
    return AlignedFace(image=crop, matrix=matrix, source_size=(rgb.shape[1], rgb.shape[0]), mesh=crop_mesh)


def preprocess(image: ImageInput, landmarks: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Turn one face image into the classifier input.

    Args:
        image: a render, a generated sample or a photograph: file path, encoded bytes, PIL image,
            or array (H, W) / (H, W, 3) / (H, W, 4). EXIF orientation is honoured.
        landmarks: optional named landmarks of a render (``pupil_l``, ``pupil_r``,
            ``cheilion_l``, ``cheilion_r``, each (2,) px) to skip face detection.

    Returns:
        (112, 112, 3) uint8 RGB crop aligned on the eyes and mouth (not normalised).

    Raises:
        ValueError: "could not read the image ...", "image too small ...", "no face found ..." or
            "several faces ...".
    """
    return align_face(image, landmarks).image
