"""Rasterise a 3D head (`models.phenotype.head_model`) into a studio portrait with OpenGL, on the CPU.

The first rendering path of the 3D engine: moderngl on an EGL context, which Debian's Mesa serves in
software (llvmpipe) on a machine without a GPU. It draws the head's skin with a wrapped diffuse term
(a cheap stand-in for subsurface scattering: light bleeds past the terminator as it does through
skin), a soft key and fill light, a small specular sheen and ambient occlusion from the mesh's
concavity; the eyes as sclera, iris of the chosen colour and pupil; brows and the upper lash line
painted on the skin in the hair colour, placed from each eye's position and width; the mouth cavity
dark. Darker skin is exposed as a portrait photographer meters on the face (`exposure_for`). Views:
frontal, three-quarter and right profile of the same head, through a portrait lens (30 degrees of
vertical field of view) framed on the head.

Not yet drawn (the phenotype-engine issue): hair, lashes as geometry, clothing, skin detail, shadows;
until they are, these images are previews of the geometry, not faces to show a family.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

#: Yaw of the head for each view, degrees (positive turns the face towards the viewer's left).
VIEWS: dict[str, float] = {"frontal": 0.0, "three_quarter": 35.0, "profile": 90.0}

_VERTEX = """
#version 330
uniform mat4 mvp;
uniform mat3 rot;
in vec3 position;
in vec3 normal;
in float region;
in float occlusion;
in vec3 eye_local;
in float brow;
out vec3 v_normal;
out float v_region;
out float v_occlusion;
out vec3 v_eye;
out float v_brow;
void main() {
    v_brow = brow;
    gl_Position = mvp * vec4(position, 1.0);
    v_normal = rot * normal;
    v_region = region;
    v_occlusion = occlusion;
    v_eye = eye_local;
}
"""

_FRAGMENT = """
#version 330
uniform vec3 skin;
uniform vec3 iris;
uniform vec3 key_dir;
uniform vec3 fill_dir;
uniform float exposure;
uniform vec3 hair;
in float v_brow;
in vec3 v_normal;
in float v_region;
in float v_occlusion;
in vec3 v_eye;
out vec4 colour;
vec3 to_linear(vec3 c) { return pow(c, vec3(2.2)); }
void main() {
    vec3 n = normalize(v_normal);
    vec3 view = vec3(0.0, 0.0, 1.0);
    int region = int(v_region + 0.5);
    vec3 albedo = to_linear(skin);
    float shine = 0.06;
    if (region == 2) {  // eye front: pupil, iris, sclera by distance from the eye's axis
        float r = length(v_eye.xy);
        albedo = r < 0.17 ? vec3(0.01) : (r < 0.40 ? to_linear(iris) * (0.75 + 0.5 * r) : vec3(0.78, 0.76, 0.74));
        shine = 0.5;
    } else if (region == 1 && v_brow > 0.0) {  // brows and the lash line, painted on the skin
        albedo = mix(albedo, to_linear(hair), clamp(v_brow, 0.0, 0.9));
        shine = 0.02;
    } else if (region >= 4) {  // eye cavity, mouth cavity, tongue: in shadow
        albedo = region == 6 ? to_linear(vec3(0.55, 0.30, 0.30)) : to_linear(vec3(0.25, 0.10, 0.10)) * 0.4;
        shine = 0.0;
    }
    // wrapped diffuse: light reaches past the terminator, as through skin (w = 0.35)
    float key = max((dot(n, key_dir) + 0.35) / 1.35, 0.0);
    float fill = max((dot(n, fill_dir) + 0.5) / 1.5, 0.0);
    vec3 subsurface = vec3(1.0, 0.55, 0.45) * 0.08 * (1.0 - abs(dot(n, key_dir)));
    vec3 h = normalize(key_dir + view);
    float spec = shine * pow(max(dot(n, h), 0.0), 40.0);
    float ao = mix(0.55, 1.0, v_occlusion);
    vec3 lit = (albedo * (0.85 * key + 0.35 * fill + 0.12) * ao + albedo * subsurface + vec3(spec)) * exposure;
    lit = lit / (1.0 + 0.25 * max(lit - 0.8, 0.0));  // a soft shoulder, so raised exposure does not clip
    colour = vec4(pow(clamp(lit, 0.0, 1.0), vec3(1.0 / 2.2)), 1.0);
}
"""

_lock = threading.Lock()
_context = None


def _gl():
    """One software OpenGL context per process (EGL, Mesa's llvmpipe on a CPU)."""
    global _context
    if _context is None:
        import moderngl

        try:
            # the versioned names: the unversioned ones come only with the -dev packages
            _context = moderngl.create_standalone_context(backend="egl", libgl="libGL.so.1", libegl="libEGL.so.1")
        except Exception as err:  # noqa: BLE001 - any GL failure becomes one sentence
            raise RuntimeError(
                f"no OpenGL available for the 3D renderer ({err}); install Mesa's EGL (Debian: libegl1 "
                "libgl1-mesa-dri)"
            ) from None
        _context.enable(moderngl.DEPTH_TEST)
    return _context


@dataclass(frozen=True)
class Look:
    """What is not geometry: colours as sRGB in [0, 1].

    Attributes:
        skin: skin colour (e.g. a Monk Skin Tone swatch, `models.phenotype.appearance.MONK_HEX`).
        iris: iris colour.
        hair: hair colour, used for the brows and lashes.
        backdrop: background colour.
    """

    skin: tuple[float, float, float] = (0.92, 0.85, 0.73)
    iris: tuple[float, float, float] = (0.36, 0.21, 0.11)
    hair: tuple[float, float, float] = (0.15, 0.095, 0.06)
    backdrop: tuple[float, float, float] = (0.80, 0.81, 0.83)


def exposure_for(skin: tuple[float, float, float]) -> float:
    """Exposure for a skin colour, as a portrait photographer meters on the face: darker skin gets more light,
    up to 2.5 stops' worth of gain (1.0 for the lightest Monk tones), so its detail is not lost in shadow."""
    linear = np.power(np.asarray(skin, dtype=np.float64), 2.2)
    luminance = float(linear @ np.array([0.2126, 0.7152, 0.0722]))
    return float(np.clip((0.35 / max(luminance, 1e-4)) ** 0.45, 1.0, 2.5))


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V, 3) float32 unit normals, area-weighted over each vertex's triangles."""
    tri = vertices[faces]  # (F, 3, 3)
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n = np.zeros_like(vertices, dtype=np.float64)
    for k in range(3):
        np.add.at(n, faces[:, k], face_n)
    return (n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _occlusion(vertices: np.ndarray, normals: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V,) float32 in [0, 1], 1 where open: how far a vertex sits out of its neighbours' mean (concavity)."""
    total = np.zeros_like(vertices, dtype=np.float64)
    count = np.zeros(len(vertices))
    for a, b in ((0, 1), (1, 2), (2, 0), (1, 0), (2, 1), (0, 2)):
        np.add.at(total, faces[:, a], vertices[faces[:, b]])
        np.add.at(count, faces[:, a], 1)
    offset = ((vertices - total / np.maximum(count, 1)[:, None]) * normals).sum(1)  # >0 convex, <0 concave
    return np.clip(0.5 + offset / 0.004, 0.0, 1.0).astype(np.float32)


def _eye_coordinates(vertices: np.ndarray, faces: np.ndarray, regions: np.ndarray, eye_region: int) -> np.ndarray:
    """(V, 3): for eye-front vertices, (x, z) offset from their eye's axis in eye radii; zeros elsewhere."""
    out = np.zeros((len(vertices), 3), dtype=np.float32)
    ids = np.unique(faces[regions == eye_region])
    if not len(ids):
        return out
    for side in (ids[vertices[ids, 0] < 0], ids[vertices[ids, 0] >= 0]):  # the two eyes
        if not len(side):
            continue
        centre = vertices[side].mean(0)
        radius = np.abs(vertices[side, [0]] - centre[0]).max()
        out[side, 0] = (vertices[side, 0] - centre[0]) / radius
        out[side, 1] = (vertices[side, 2] - centre[2]) / radius
    return out


def _brows(vertices: np.ndarray, normals: np.ndarray, faces: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """(V,) float32 in [0, 1]: how much brow (an arch above each eye) and lash line (the upper lid margin)
    covers each skin vertex, placed from the eyes' own position and width so it follows every head."""
    out = np.zeros(len(vertices), dtype=np.float32)
    eyes = np.unique(faces[regions == 2])
    skin = np.unique(faces[regions == 1])
    front = normals[skin, 1] < -0.2  # facing the camera (the face looks towards -y)
    for side in (eyes[vertices[eyes, 0] < 0], eyes[vertices[eyes, 0] >= 0]):
        if not len(side):
            continue
        centre = vertices[side].mean(0)
        width = max(np.ptp(vertices[side, 0]), 1e-3)
        dx = (vertices[skin, 0] - centre[0]) / width * np.sign(centre[0] or 1.0)  # + towards the temple
        dz = (vertices[skin, 2] - centre[2]) / width
        arch = 0.62 + 0.1 * (1 - np.clip((dx - 0.1) / 1.0, -1, 1) ** 2)  # highest over the pupil's outer half
        brow = np.exp(-(((dz - arch) / 0.12) ** 2)) * np.clip(1.4 - np.abs(dx - 0.1) / 0.75, 0, 1)
        lash = 0.8 * np.exp(-(((dz - 0.3) / 0.07) ** 2)) * np.clip(1.0 - np.abs(dx) / 0.7, 0, 1)
        out[skin] = np.maximum(out[skin], np.where(front, np.maximum(brow, lash), 0.0))
    return out


def render_head(
    vertices: np.ndarray,
    faces: np.ndarray,
    face_region: np.ndarray,
    view: str = "frontal",
    size: int = 256,
    look: Look = Look(),
) -> np.ndarray:
    """A studio portrait of a head.

    Args:
        vertices: (V, 3) float positions in metres (+z up, the face towards -y), from `HeadModel.vertices`.
        faces: (F, 3) int triangles.
        face_region: (F,) region index per triangle (`HeadModel.face_regions`: 2 eye front, 4-6 cavities).
        view: a key of `VIEWS`.
        size: image width and height in pixels, 64 to 1024.
        look: colours.

    Returns:
        (size, size, 3) uint8 RGB.

    Raises:
        ValueError: an unknown view or a size out of range.
        RuntimeError: no OpenGL (Mesa's EGL) on this machine.
    """
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; one of {', '.join(VIEWS)}")
    if not 64 <= size <= 1024:
        raise ValueError(f"size must be 64 to 1024 pixels, not {size}")
    v = np.asarray(vertices, dtype=np.float64)
    v = v - (v.min(0) + v.max(0)) / 2
    # camera space: x right, y up, z towards the camera; the model's face looks towards -y
    yaw = np.radians(VIEWS[view])
    to_camera = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], dtype=np.float64)
    turn = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    rot = turn @ to_camera
    cam = v @ rot.T
    normals = vertex_normals(v, faces)
    height = cam[:, 1].max() - cam[:, 1].min()
    fov = np.radians(30.0)
    distance = 0.62 * height / np.tan(fov / 2) + cam[:, 2].max()
    f = 1 / np.tan(fov / 2)
    near, far = 0.05, distance + 1.0
    proj = np.array(
        [[f, 0, 0, 0], [0, f, 0, 0], [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)], [0, 0, -1, 0]]
    )
    view_m = np.eye(4)
    view_m[:3, :3] = rot
    view_m[2, 3] = -distance
    view_m[1, 3] = -0.04 * height  # the eyes a little above the centre, as portraits frame them
    mvp = (proj @ view_m).astype(np.float32)

    per_vertex_region = np.zeros(len(v), dtype=np.float32)
    for r in np.unique(face_region):
        per_vertex_region[np.unique(faces[face_region == r])] = r
    attributes = np.hstack(
        [
            v.astype(np.float32),
            normals,
            per_vertex_region[:, None],
            _occlusion(v, normals, faces)[:, None],
            _eye_coordinates(v, faces, face_region, 2),
            _brows(v, normals, faces, face_region)[:, None],
        ]
    ).astype(np.float32)
    with _lock:
        ctx = _gl()
        program = ctx.program(vertex_shader=_VERTEX, fragment_shader=_FRAGMENT)
        program["mvp"].write(mvp.T.tobytes())
        program["rot"].write(rot.astype(np.float32).T.tobytes())
        program["skin"].value = tuple(look.skin)
        program["exposure"].value = exposure_for(look.skin)
        program["hair"].value = tuple(look.hair)
        program["iris"].value = tuple(look.iris)
        program["key_dir"].value = tuple(_unit([-0.45, 0.55, 0.70]))
        program["fill_dir"].value = tuple(_unit([0.6, 0.1, 0.8]))
        vbo = ctx.buffer(attributes.tobytes())
        ibo = ctx.buffer(np.asarray(faces, dtype=np.int32).tobytes())
        vao = ctx.vertex_array(
            program,
            [(vbo, "3f 3f 1f 1f 3f 1f", "position", "normal", "region", "occlusion", "eye_local", "brow")],
            ibo,
        )
        fbo = ctx.simple_framebuffer((size * 2, size * 2), components=3)  # 2x supersampled, then averaged
        fbo.use()
        fbo.clear(*look.backdrop, 1.0, depth=1.0)
        vao.render()
        data = np.frombuffer(fbo.read(components=3), dtype=np.uint8).reshape(size * 2, size * 2, 3)
        for obj in (vao, vbo, ibo, program, fbo):
            obj.release()
    image = data[::-1].reshape(size, 2, size, 2, 3).mean(axis=(1, 3))
    return np.round(image).astype(np.uint8)


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return (v / np.linalg.norm(v)).astype(np.float32)


def preview_sheet(size: int = 192) -> np.ndarray:
    """Heads at 1, 5, 10 and 15 years (girls and boys, three ancestries, Monk tones 2 to 8), each frontal,
    three-quarter and in profile: a (4 * size, 3 * size, 3) uint8 sheet for looking at the engine's geometry."""
    from models.phenotype.appearance import EYE_RGB, HAIR_RGB, MONK_HEX
    from models.phenotype.head_model import HeadModel, HeadParams

    model = HeadModel.load()
    rows = []
    for years, sex, ancestry, tone, eye, hair in (
        (1, "female", "european", 2, "blue", "blond"),
        (5, "male", "african", 8, "dark-brown", "black"),
        (10, "female", "asian", 5, "brown", "black"),
        (15, "male", "european", 3, "green", "brown"),
    ):
        skin = tuple(int(MONK_HEX[tone - 1][i : i + 2], 16) / 255 for i in (0, 2, 4))
        v = model.vertices(HeadParams(years, sex, ancestry))
        look = Look(skin=skin, iris=EYE_RGB[eye], hair=HAIR_RGB[hair])
        rows.append(np.hstack([render_head(v, model.faces, model.face_region, view, size, look) for view in VIEWS]))
    return np.vstack(rows)


def main(argv=None) -> int:
    """``python -m models.phenotype.head_render --out FILE.png``: write `preview_sheet`, marked SYNTHETIC."""
    import argparse

    from models import provenance

    p = argparse.ArgumentParser(
        prog="python -m models.phenotype.head_render",
        description="Write a preview sheet of the 3D engine's heads (geometry only: no hair, brows or lashes yet).",
    )
    p.add_argument("--out", required=True, help="PNG to write")
    p.add_argument("--size", type=int, default=192, help="pixels per view, 64 to 1024 (default: 192)")
    args = p.parse_args(argv)
    if not args.out.lower().endswith(".png") or not 64 <= args.size <= 1024:
        p.error("--out must end in .png and --size must be 64 to 1024")
    sheet = provenance.mark_synthetic(preview_sheet(args.size))
    info = provenance.png_metadata(generator="models.phenotype.head_render preview (anny head, CPU OpenGL)")
    provenance.save_png(sheet, args.out, info)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
