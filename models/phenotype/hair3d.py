"""Hair for the 3D head: strands grown over the scalp and drawn as cards (ribbons of many hairs), not a helmet.

Each card starts at a root sampled on the scalp (area-weighted), leaves the skin along the style's
flow (away from the parting, the fringe forwards), bends under gravity as it grows and is kept a few
millimetres off the head and shoulders, so that hair lies on the skull, falls past the ears and rests
on the shoulders. The renderer (`models.phenotype.head_render`) draws each card as many thin hairs
with an anisotropic highlight (Kajiya and Kay 1989) and paints the scalp beneath in the hair colour,
so that gaps between cards read as dense hair rather than skin.

Hairstyles follow what children commonly wear at each age (`STYLES`, `choose_style`): infants have
fine short hair lying close to the head; boys mostly cropped or short hair; girls short, bob or long hair. They are
drawn from the identity seed and are a property of the portrait, not of the syndrome.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class HairStyle:
    """One hairstyle.

    Attributes:
        name: short name, e.g. ``"bob"``.
        length: strand length in metres at the crown (front strands stop at the brows).
        lift: how far the outer layer stands off the scalp, metres.
        cards: number of cards (more for fuller hair).
        width: card width at the root, metres.
        density: how much of the scalp the hair hides, 0 to 1 (infants' sparse hair shows skin).
        part: lateral position of the parting in head half-widths (-1 to 1), or None for hair combed
            back from the crown.
    """

    name: str
    length: float
    lift: float
    cards: int
    width: float
    density: float
    part: float | None


STYLES: dict[str, HairStyle] = {
    # fine, short and close to the head, the scalp tinted beneath: 1,500 cards of 4 mm over a scalp painted at
    # 0.6 left dark tufts on bare skin, which at 512 px read as a scalp disease, not a baby's hair
    "infant": HairStyle("infant", 0.016, 0.0005, 4000, 0.002, 0.9, None),
    "cropped": HairStyle("cropped", 0.035, 0.003, 1400, 0.013, 0.95, None),
    "short": HairStyle("short", 0.06, 0.005, 1400, 0.016, 1.0, 0.45),
    "bob": HairStyle("bob", 0.17, 0.008, 1700, 0.02, 1.0, 0.0),
    "long": HairStyle("long", 0.30, 0.009, 1800, 0.02, 1.0, 0.3),
}


def choose_style(age: float, sex: str, rng: np.random.Generator) -> HairStyle:
    """A hairstyle for a child of this age (years) and sex, drawn with `rng`.

    Children under 18 months get sparse infant hair; otherwise boys get cropped (75 %) or short hair,
    and girls short (20 %), bob (40 %) or long hair (40 %; not before 3 years). A portrait convention
    of this project, not a clinical fact.
    """
    if age < 1.5:
        return STYLES["infant"]
    if sex == "male":
        return STYLES["cropped"] if rng.random() < 0.75 else STYLES["short"]
    draw = rng.random()
    if draw < 0.2 or age < 3 and draw < 0.6:
        return STYLES["short"] if draw < 0.2 else STYLES["bob"]
    return STYLES["bob"] if draw < 0.6 or age < 3 else STYLES["long"]


@dataclass
class HairCards:
    """Cards ready to draw.

    Attributes:
        positions: (N, 3) float32 vertex positions, metres.
        tangents: (N, 3) float32 unit direction of the hairs at each vertex.
        uv: (N, 2) float32: u across the card (-1 to 1), v along it (0 root, 1 tip).
        shade: (N, 2) float32: per-card brightness jitter and depth in the hair (0 inner, 1 outer).
        triangles: (T, 3) int32.
        scalp: (V,) float32 in [0, 1]: how much hair colour to paint on each head vertex.
    """

    positions: np.ndarray
    tangents: np.ndarray
    uv: np.ndarray
    shade: np.ndarray
    triangles: np.ndarray
    scalp: np.ndarray


def scalp_weights(
    vertices: np.ndarray, skin: np.ndarray, ears: np.ndarray, eye_z: float, hairline_mm: float = 0.0
) -> np.ndarray:
    """(V,) float32 in [0, 1]: where hair grows, 1 well inside the hairline, falling to 0 across about 1 cm.

    The hairline follows the head's own landmarks: across the forehead at about 62 % of the way from the
    eyes to the vertex, down to the ear tops at the temples, to the level between the eyes and the mouth
    at the nape; ears and the face are bare.

    Args:
        vertices: (V, 3) metres, +z up, the face towards -y.
        skin: (V,) bool, vertices of the skin (not eyes, mouth cavity). ears: (V,) float in [0, 1], ear weight.
        eye_z: height of the eyes' centres, metres.
        hairline_mm: the front hairline raised (+) or lowered (-) by this many millimetres.
    """
    v = vertices
    top = v[skin, 2].max()
    chin = v[skin & (v[:, 1] < np.percentile(v[skin, 1], 20)), 2].min()
    centre_y = v[skin & (v[:, 2] > eye_z), 1].mean()
    azimuth = np.abs(np.arctan2(v[:, 0], -(v[:, 1] - centre_y)))  # 0 facing forward, pi at the back
    # a low hairline stops short of the brows (at half the way from the eyes to the vertex)
    front = max(eye_z + 0.62 * (top - eye_z) + hairline_mm / 1000, eye_z + 0.5 * (top - eye_z))
    side = eye_z + 0.05 * (top - eye_z)
    back = eye_z - 0.45 * (eye_z - chin)
    t = np.clip(azimuth / (np.pi / 2), 0, 2)
    line = np.where(
        t < 1,
        front + (side - front) * np.sin(t * np.pi / 2) ** 2,
        side + (back - side) * np.sin((t - 1) * np.pi / 2),
    )
    w = np.clip((v[:, 2] - line) / 0.01 + 0.5, 0, 1)
    return (w * skin * (1 - np.clip((ears - 0.4) * 4, 0, 1))).astype(np.float32)


def grow(
    vertices: np.ndarray,
    normals: np.ndarray,
    faces: np.ndarray,
    scalp: np.ndarray,
    style: HairStyle,
    rng: np.random.Generator,
    shoulders: tuple[float, float, float] | None = None,
    brow_z: float | None = None,
    hang_z: float | None = None,
    tuck_y: float | None = None,
) -> HairCards:
    """Grow the hair of one style over a head.

    Args:
        vertices: (V, 3) head vertices, metres (+z up, face towards -y). normals: (V, 3) unit normals.
        faces: (F, 3) int triangles. scalp: (V,) weights from `scalp_weights`.
        style: the hairstyle. rng: the identity's generator (the same seed grows the same hair).
        shoulders: (z of the shoulder line, half width, half depth) of the torso, so long hair rests on it.
        brow_z: height of the brows; fringe strands stop a little above them.
        hang_z: below this height hair hangs free of the head (default: the lowest scalp).
        tuck_y: long hair at the sides below the brows is kept behind this depth (the front of the ears),
            tucked behind the ears so that cheeks, ears and the profile stay visible.

    Returns:
        `HairCards`.
    """
    from scipy.spatial import cKDTree

    v = vertices.astype(np.float64)
    n = normals.astype(np.float64)
    tree = cKDTree(v)
    tri_w = scalp[faces].min(1)
    tri = faces[tri_w > 0.5]
    if not len(tri):
        return _empty(len(v))
    area = 0.5 * np.linalg.norm(np.cross(v[tri[:, 1]] - v[tri[:, 0]], v[tri[:, 2]] - v[tri[:, 0]]), axis=1)
    pick = rng.choice(len(tri), size=style.cards, p=area / area.sum())
    a, b = rng.random(style.cards), rng.random(style.cards)
    flip = a + b > 1
    a[flip], b[flip] = 1 - a[flip], 1 - b[flip]
    corners = v[tri[pick]]
    roots = corners[:, 0] + a[:, None] * (corners[:, 1] - corners[:, 0]) + b[:, None] * (corners[:, 2] - corners[:, 0])
    root_n = n[tri[pick]].mean(1)
    root_n /= np.linalg.norm(root_n, axis=1, keepdims=True)

    top = v[scalp > 0.5, 2].max()
    half_width = np.abs(v[scalp > 0.5, 0]).max()
    y_front = v[scalp > 0.5, 1].min()
    y_back = v[scalp > 0.5, 1].max()
    if style.part is None:
        crown = np.array([0.0, y_front + 0.62 * (y_back - y_front), top])
        flow = roots - crown
        flow[:, 2] *= 0.6
    else:
        part_x = style.part * half_width * 0.6
        along = np.clip(roots[:, 1], y_front + 0.25 * (y_back - y_front), y_back)
        flow = np.stack([roots[:, 0] - part_x, roots[:, 1] - along, roots[:, 2] - top - 0.02], axis=1)
        flow[:, 0] += np.sign(roots[:, 0] - part_x) * 0.02
        flow[:, 1] += 0.025 * (style.length > 0.1)  # long hair swept back, off the face
    flow += rng.normal(0, 0.004, flow.shape)
    direction = _tangential(flow, root_n)

    # lengths are for a head of about 20 cm (vertex to chin); smaller heads grow proportionally shorter hair
    head = float(v[:, 2].max() - v[:, 2].min())
    lengths = style.length * min(1.0, head / 0.2) * rng.uniform(0.8, 1.1, style.cards)
    if brow_z is not None:  # a fringe: hair falling forward over the forehead stops above the brows
        forward = direction[:, 1] < -0.3
        room = np.clip(roots[:, 2] - (brow_z + 0.008), 0.004, None) * 1.15
        lengths = np.where(forward, np.minimum(lengths, room), lengths)
    steps = 6 if style.length < 0.05 else 12
    layer = rng.uniform(0.0, 1.0, style.cards)  # outer cards stand further off the scalp
    lift = style.lift * (0.35 + 0.65 * layer) + 0.001
    # hair lies on the skull down to about the ear lobes; below that it hangs free
    hang_z = float(v[scalp > 0.5, 2].min()) if hang_z is None else hang_z
    stiffness = 0.04 if style.length < 0.05 else 0.12
    points = np.empty((style.cards, steps + 1, 3))
    points[:, 0] = roots + root_n * 0.0005
    d = direction
    stopped = np.zeros(style.cards, bool)
    for k in range(1, steps + 1):
        seg = (lengths / steps)[:, None]
        p = points[:, k - 1] + d * seg
        p = _follow(p, tree, v, n, lift * min(1.0, 0.4 + k / 3), attached=p[:, 2] > hang_z)
        if shoulders is not None:  # hair that reaches the shoulders ends there
            stopped |= _on_shoulders(p, shoulders)
        if tuck_y is not None and brow_z is not None and style.length > 0.1:
            side = (p[:, 2] < brow_z) & (np.abs(p[:, 0]) > 0.4 * half_width)
            p[:, 1] = np.where(side, np.maximum(p[:, 1], tuck_y), p[:, 1])
        if tuck_y is not None and brow_z is not None:  # no strand crosses the face: it ends where it would
            stopped |= (p[:, 2] < brow_z) & (np.abs(p[:, 0]) < 0.45 * half_width) & (p[:, 1] < tuck_y)
            p[stopped] = points[stopped, k - 1]
        d = p - points[:, k - 1]
        # hair hanging free never rises: pushed off the neck and shoulders, whose normals point out and up, a
        # strand otherwise kept that heading and flew out sideways from below the ears
        free = p[:, 2] <= hang_z
        d[free, 2] = np.minimum(d[free, 2], 0.0)
        d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
        d = d + np.array([0.0, 0.0, -1.0]) * stiffness * (1 + k / steps)  # gravity bends the strand down
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        points[:, k] = p
    return _cards(points, n[tree.query(points[:, 0])[1]], style, layer, rng, len(v), scalp)


def _tangential(flow: np.ndarray, normal: np.ndarray) -> np.ndarray:
    d = flow - (flow * normal).sum(1, keepdims=True) * normal
    return d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)


def _follow(p: np.ndarray, tree, v: np.ndarray, n: np.ndarray, lift: np.ndarray, attached: np.ndarray) -> np.ndarray:
    """Keep points `lift` off the head: attached points are held on that shell (hair lying on the skull),
    free ones are only pushed out when they would sink closer."""
    _, idx = tree.query(p, k=4)
    q = v[idx].mean(1)
    nq = n[idx].mean(1)
    nq /= np.linalg.norm(nq, axis=1, keepdims=True)
    depth = ((p - q) * nq).sum(1)
    move = np.where(attached & (depth < lift + 0.03), lift - depth, np.clip(lift - depth, 0, None))
    # a free point is pushed only near the skin: below the mesh's lower edge the nearest vertices' plane lies
    # across the strand's path, and "under" it the push grew every step and threw strands out sideways
    near = np.linalg.norm(p - q, axis=1) < lift + 0.01
    move = np.where(attached | near, move, 0.0)
    return p + nq * move[:, None]


def _on_shoulders(p: np.ndarray, shoulders: tuple[float, float, float]) -> np.ndarray:
    """(N,) bool: points that reach the torso (an elliptic cylinder below the shoulder line)."""
    z0, half_w, half_d = shoulders
    r = np.sqrt((p[:, 0] / half_w) ** 2 + (p[:, 1] / half_d) ** 2)
    return (p[:, 2] < z0) & (r < 1.0)


def _cards(points, root_normals, style, layer, rng, n_head, scalp) -> HairCards:
    """Ribbons along each strand, lying on the head (width across the strand, in the surface's tangent plane)."""
    count, m, _ = points.shape
    t = np.gradient(points, axis=1)
    t /= np.maximum(np.linalg.norm(t, axis=2, keepdims=True), 1e-9)
    across = np.cross(t, root_normals[:, None, :])
    across /= np.maximum(np.linalg.norm(across, axis=2, keepdims=True), 1e-9)
    v = np.linspace(0, 1, m)
    half = style.width / 2 * (1 - 0.55 * v)[None, :, None] * rng.uniform(0.7, 1.3, (count, 1, 1))
    left, right = points - across * half, points + across * half
    positions = np.stack([left, right], axis=2).reshape(-1, 3)
    tangents = np.repeat(t, 2, axis=1).reshape(-1, 3)
    uv = np.stack(np.broadcast_arrays(np.array([-1.0, 1.0])[None, None, :], v[None, :, None]), axis=-1)
    uv = np.broadcast_to(uv, (count, m, 2, 2)).reshape(-1, 2)
    jitter = rng.uniform(0.75, 1.15, count)
    shade = np.stack([np.repeat(jitter, 2 * m), np.repeat(layer, 2 * m)], axis=1)
    base = (np.arange(count) * 2 * m)[:, None] + 2 * np.arange(m - 1)[None, :]
    quads = np.stack([base, base + 1, base + 2, base + 1, base + 3, base + 2], axis=-1).reshape(-1, 3)
    return HairCards(
        positions.astype(np.float32),
        tangents.astype(np.float32),
        uv.astype(np.float32),
        shade.astype(np.float32),
        quads.astype(np.int32),
        (scalp * style.density).astype(np.float32),
    )


def _empty(n_head: int) -> HairCards:
    z = np.zeros((0, 3), np.float32)
    return HairCards(z, z, np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32), np.zeros((0, 3), np.int32),
                     np.zeros(n_head, np.float32))  # fmt: skip
