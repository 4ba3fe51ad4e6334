"""Average portraits ("composite faces") of a syndrome, made from synthetic children.

A composite face is the pixel average of many faces, each first aligned to the group's mean
landmark configuration. In dysmorphology it shows a syndrome's gestalt while no single person's
features can be recognised in it (Hammond P. 2007, The use of 3D face shape modelling in
dysmorphology, Arch Dis Child 92:1120-1126; Ferry Q. et al. 2014, Diagnostically relevant facial
gestalt information from ordinary photos, eLife 3:e02020, Fig. 2). Here the faces are PhenoFace
renders, so no real child is averaged.

Method, deterministic for a given seed:
    1. Render ``n`` children (identity seeds ``seed`` to ``seed + n - 1``) with the phenotype
       renderer, using its own landmarks (`FaceSample.landmarks`, pixels).
    2. Find the mean landmark configuration by generalised Procrustes analysis (Gower 1975):
       align every configuration to the current mean by a similarity transform (rotation,
       uniform scale, translation; least squares, Umeyama 1991), average, repeat. The mean is
       kept at the group's mean centroid and mean size, so it stays in image coordinates.
    3. Warp each image onto the mean by the similarity transform of its landmarks (bilinear,
       edge pixels repeated) and average the pixels in sRGB. By default the output is the square
       around the mean face (``frame="face"``), as published composites show it, drawn in the same
       single resampling.

Only a similarity transform is used, as in the cited composites of aligned photographs; the
features that differ in shape between children (eye spacing, mouth width) therefore stay
slightly blurred, and what is sharp is what the children share.
"""

from __future__ import annotations

import cv2
import numpy as np

from models.faces import draw_face

from .spec import MAX_SIZE, MIN_SIZE, RenderSpec

#: Most children a composite may average (each costs one render).
MAX_CHILDREN = 64
#: Generalised Procrustes iterations; the mean moves by well under 0.01 px after three.
PROCRUSTES_ITERATIONS = 5
#: Side of the face crop as a multiple of the mean landmarks' extent (vertex to chin).
FACE_MARGIN = 1.2
#: Renders for a face crop are this much larger than the output (the crop spans about 3/4 of a render).
RENDER_SCALE = 1.4


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The least-squares similarity transform taking points `src` onto `dst` (Umeyama 1991).

    Args:
        src: (K, 2) float points (x, y), K >= 2, not all equal.
        dst: (K, 2) float points (x, y).

    Returns:
        (2, 3) float64 matrix ``M`` with ``dst ≈ src @ M[:, :2].T + M[:, 2]`` (rotation and
        uniform scale in ``M[:, :2]``, no reflection).

    Raises:
        ValueError: shapes differ or are not (K, 2) with K >= 2, or `src` has no spread.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or src.shape[0] < 2:
        raise ValueError(f"need two (K, 2) point sets with K >= 2, got {src.shape} and {dst.shape}")
    mu_src, mu_dst = src.mean(0), dst.mean(0)
    src_c, dst_c = src - mu_src, dst - mu_dst
    var_src = (src_c**2).sum() / len(src)
    if var_src <= 1e-12:
        raise ValueError("the source points are all in one place")
    cov = dst_c.T @ src_c / len(src)  # (2, 2)
    u, s, vt = np.linalg.svd(cov)
    d = np.array([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rotation = u @ np.diag(d) @ vt
    scale = float((s * d).sum() / var_src)
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = mu_dst - scale * rotation @ mu_src
    return matrix


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def procrustes_mean(shapes: np.ndarray, iterations: int = PROCRUSTES_ITERATIONS) -> np.ndarray:
    """Mean landmark configuration by generalised Procrustes analysis (similarity transforms).

    Args:
        shapes: (N, K, 2) float landmark configurations in pixels, N >= 1.
        iterations: align-and-average rounds.

    Returns:
        (K, 2) float64 mean configuration, at the mean centroid and mean centroid size (RMS
        distance of the points to their centroid) of `shapes`, in pixels.
    """
    shapes = np.asarray(shapes, dtype=np.float64)
    centroids = shapes.mean(1)  # (N, 2)
    sizes = np.sqrt(((shapes - centroids[:, None]) ** 2).sum(2).mean(1))  # (N,)
    mean = shapes[0]
    for _ in range(iterations):
        aligned = np.stack([_apply(similarity_transform(shape, mean), shape) for shape in shapes])
        mean = aligned.mean(0)
        centred = mean - mean.mean(0)
        mean = centred * (sizes.mean() / np.sqrt((centred**2).sum(1).mean())) + centroids.mean(0)
    return mean


def align_and_average(
    images: list[np.ndarray], landmarks: list[np.ndarray], face_margin: float | None = None, size: int | None = None
) -> np.ndarray:
    """Warp each image onto the mean landmark configuration and average the pixels.

    Args:
        images: N (H, W, 3) uint8 RGB images of one size.
        landmarks: N (K, 2) float landmark configurations (x, y in pixels), same order of points.
        face_margin: None to keep the images' frame; else the output is the square around the mean
            landmarks, `face_margin` times their larger extent on a side (one resampling in all).
        size: output width and height in pixels with `face_margin` (default: the images' width).

    Returns:
        (H, W, 3) uint8 RGB average, or (size, size, 3) with `face_margin`.

    Raises:
        ValueError: no images, or images and landmarks that do not match.
    """
    if not images or len(images) != len(landmarks):
        raise ValueError("need one landmark configuration per image, and at least one image")
    h, w = images[0].shape[:2]
    if any(image.shape != (h, w, 3) for image in images):
        raise ValueError("all images must have the same (H, W, 3) shape")
    mean = procrustes_mean(np.stack(landmarks))
    frame = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # output pixel -> mean-configuration pixel
    if face_margin is not None:
        size = size or w
        low, high = mean.min(0), mean.max(0)
        side = face_margin * float((high - low).max())
        corner = (low + high) / 2 - side / 2
        frame = np.array([[side / size, 0.0, corner[0]], [0.0, side / size, corner[1]]])
        h = w = size
    total = np.zeros((h, w, 3), np.float64)
    for image, points in zip(images, landmarks, strict=True):
        to_image = similarity_transform(mean, points)  # mean configuration -> this image
        matrix = np.hstack([to_image[:, :2] @ frame[:, :2], to_image[:, :2] @ frame[:, 2:] + to_image[:, 2:]])
        # output pixel -> input pixel, hence WARP_INVERSE_MAP
        total += cv2.warpAffine(
            image, matrix, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
        )
    return np.clip(np.round(total / len(images)), 0, 255).astype(np.uint8)


def average_portrait(
    syndrome: str,
    age: float,
    sex: str,
    skin_tone: int,
    n: int = 12,
    seed: int = 0,
    size: int = 256,
    intensity: float = 1.0,
    *,
    eye_colour: str | None = None,
    hair_colour: str | None = None,
    view: str = "frontal",
    frame: str = "face",
) -> np.ndarray:
    """The average portrait of ``n`` synthetic children with a syndrome (see the module docstring).

    The same arguments with ``intensity=0`` give the average of the same children without the
    syndrome. The result is not marked SYNTHETIC; callers that show or save it must mark it.

    Args:
        syndrome: catalogue key, name or OMIM id (``"unaffected"`` for children without a syndrome).
        age: years, 0 to 18.
        sex: ``"female"`` or ``"male"``.
        skin_tone: Monk Skin Tone level, 1 to 10.
        n: number of children, 1 to `MAX_CHILDREN`; child ``i`` has identity seed ``seed + i``.
        seed: identity seed of the first child, >= 0.
        size: width and height in pixels, 128 to 512.
        intensity: feature intensity, 0 to 1.5.
        eye_colour, hair_colour: fixed colours (see `RenderSpec`), or None to draw each child's from its seed.
        view: ``"frontal"`` or ``"profile"``.
        frame: ``"face"``: the square around the mean landmarks (vertex to chin), `FACE_MARGIN`
            times their extent, like the composites of the literature; the children are rendered
            `RENDER_SCALE` times larger so that the crop is not enlarged. ``"portrait"``: the
            renderer's whole frame (head and shoulders).

    Returns:
        (size, size, 3) uint8 RGB composite; the same arguments give the same bytes.

    Raises:
        ValueError: `n` out of range, or a bad spec (one-line message from `validate_spec`).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_CHILDREN:
        raise ValueError(f"the number of children must be a whole number from 1 to {MAX_CHILDREN}, not {n!r}")
    if frame not in ("face", "portrait"):
        raise ValueError(f"frame must be 'face' or 'portrait', not {frame!r}")
    if not isinstance(size, (int, np.integer)) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE} pixels, not {size!r}")
    render_size = min(MAX_SIZE, round(size * RENDER_SCALE)) if frame == "face" else size
    images, shapes, names = [], [], None
    for i in range(int(n)):
        spec = RenderSpec(
            syndrome=syndrome,
            age=age,
            sex=sex,
            skin_tone=skin_tone,
            eye_colour=eye_colour,
            hair_colour=hair_colour,
            seed=int(seed) + i,
            intensity=intensity,
            view=view,
            size=render_size,
        )
        sample = draw_face(spec).sample
        names = names or sorted(sample.landmarks)  # every render of one view has the same landmarks
        images.append(sample.image)
        shapes.append(np.stack([sample.landmarks[name] for name in names]).astype(np.float64))
    if frame == "portrait":
        return align_and_average(images, shapes)
    return align_and_average(images, shapes, face_margin=FACE_MARGIN, size=int(size))
