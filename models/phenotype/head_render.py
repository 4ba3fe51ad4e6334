"""Rasterise a 3D head (`models.phenotype.head_model`) into a studio portrait with OpenGL, on the CPU.

The first rendering path of the 3D engine: moderngl on an EGL context, which Debian's Mesa serves in
software (llvmpipe) on a machine without a GPU. It draws the head's skin with a wrapped diffuse term
(a cheap stand-in for subsurface scattering: light bleeds past the terminator as it does through
skin), a soft key and fill light, a small specular sheen and ambient occlusion from the mesh's
concavity; the eyes as sclera, iris of the chosen colour and pupil, with the cornea's highlight; brows,
the lash lines and the crease of the upper lid computed per pixel from coordinates relative to each eye
and its lid margins (`_lid_coordinates`), so they stay sharp on a head of a few thousand vertices; each
triangle keeps its own region, so the skin at the lid margin and the lips' edge is skin; the mouth
cavity dark. Darker skin is exposed as a portrait photographer meters on the face (`exposure_for`). Views:
frontal, three-quarter and right profile of the same head, through a portrait lens (30 degrees of
vertical field of view) framed on the head.

With a `Dressing` (`models.phenotype.portrait3d.dress`) it also draws hair as strand cards with an
anisotropic highlight (Kajiya and Kay 1989) over a scalp painted in the hair colour, shoulders in a
top, lips, blush, brows per child, skin texture by age, and a soft shadow of the key light (a shadow
map with percentage-closer filtering). ``ids=True`` renders which head vertex each pixel shows, for
region masks. Not yet drawn (the phenotype-engine issue): lashes as geometry, teeth.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import cv2
import numpy as np

#: Yaw of the head for each view, degrees (positive turns the face towards the viewer's left).
VIEWS: dict[str, float] = {"frontal": 0.0, "three_quarter": 35.0, "profile": 90.0}
#: Camera distance in head heights (through the lens's half field of view): smaller frames the head tighter.
FRAMING = 0.72

_SHADOW_GLSL = """
uniform sampler2DShadow shadow_map;
float lit_by_key(vec4 light_pos) {  // percentage-closer filtering, 3 x 3 bilinear taps: a soft studio shadow
    vec3 p = light_pos.xyz / light_pos.w * 0.5 + 0.5;
    float sum = 0.0;
    for (int i = -1; i <= 1; i++)
        for (int j = -1; j <= 1; j++)
            sum += texture(shadow_map, vec3(p.xy + vec2(i, j) * 2.0 / 1024.0, p.z - 0.004));
    return sum / 9.0;
}
"""

_VERTEX = """
#version 330
uniform mat4 mvp;
uniform mat3 rot;
in vec3 position;
in vec3 normal;
in float region;
in float occlusion;
in vec3 eye_local;
in vec4 paint;
in vec4 lids;
uniform mat4 light_vp;
out vec4 v_light;
out vec3 v_normal;
out vec3 v_position;
out float v_region;
out float v_occlusion;
out vec3 v_eye;
out vec4 v_paint;
out vec4 v_lids;
void main() {
    gl_Position = mvp * vec4(position, 1.0);
    v_position = position;
    v_normal = rot * normal;
    v_region = region;
    v_occlusion = occlusion;
    v_eye = eye_local;
    v_paint = paint;
    v_lids = lids;
    v_light = light_vp * vec4(position, 1.0);
}
"""

_FRAGMENT = (
    """
#version 330
uniform vec3 skin;
uniform vec3 iris;
uniform vec3 key_dir;
uniform vec3 fill_dir;
uniform float exposure;
uniform vec3 hair;
uniform vec3 cloth;
uniform float detail;
uniform vec4 brow_shape;  // height, arch, peak, thickness (eye widths; see Brows)
uniform vec3 brow_more;   // length, density, lashes
uniform vec4 brow_signs;  // synophrys, medial flare, lateral sparseness, lash length (see Brows)
uniform vec4 iris_signs;  // Brushfield spots, stellate iris, iris coloboma, strabismus (see Look)
uniform float lid_coloboma;  // eyelid coloboma, 0 to 1.5 (see Look)
in vec4 v_lids;  // (dx, dz) from the nearer eye, distance above the upper and below the lower lid margin
in vec3 v_position;
in vec3 v_normal;
in float v_region;
in float v_occlusion;
in vec3 v_eye;
in vec4 v_paint;  // unused, scalp, lips, fabric
in vec4 v_light;
out vec4 colour;
"""
    + _SHADOW_GLSL
    + """

vec3 to_linear(vec3 c) { return pow(c, vec3(2.2)); }
float hash(vec3 p) { return fract(sin(dot(p, vec3(127.1, 311.7, 74.7))) * 43758.5453); }
float noise(vec3 p) {  // value noise, smooth between lattice points
    vec3 i = floor(p); vec3 f = fract(p); f = f * f * (3.0 - 2.0 * f);
    vec2 e = vec2(1.0, 0.0);
    float a = mix(mix(hash(i), hash(i + e.xyy), f.x), mix(hash(i + e.yxy), hash(i + e.xxy), f.x), f.y);
    float b = mix(mix(hash(i + e.yyx), hash(i + e.xyx), f.x), mix(hash(i + e.yxx), hash(i + e.xxx), f.x), f.y);
    return mix(a, b, f.z);
}
// The brows, lash line, lashes and lid crease are computed here, per pixel, from coordinates the vertices
// carry (linear in position, so interpolation keeps them exact): painted per vertex on a head of a few
// thousand vertices they were soft blurs.
float brow_hairs() {
    float dx = v_lids.x, dz = v_lids.y;  // eye widths; dx grows towards the temple
    float inner = -0.62 - 0.9 * brow_signs.x;  // synophrys: the heads reach the midline and meet
    if (dx < inner - 0.1 || dx > brow_more.x + 0.2 || abs(dz - brow_shape.x - 0.1) > 0.5) return 0.0;  // far
    float arch = brow_shape.x + brow_shape.y * (1.0 - pow(clamp(dx - brow_shape.z, -1.0, 1.0), 2.0));
    arch -= 0.03 * brow_signs.x * smoothstep(-0.5, -1.1, dx);  // the bridge between them runs lower
    float thick = brow_shape.w * mix(1.25, 0.35, clamp((dx + 0.5) / (brow_more.x + 0.5), 0.0, 1.0));  // to a tail
    thick *= 1.0 + 0.9 * brow_signs.y * smoothstep(0.3, -0.45, dx);  // medial flaring: a broad head
    thick *= 1.0 - 0.3 * brow_signs.x * smoothstep(-0.6, -1.0, dx);  // a finer bridge
    // a flat-topped band (a brow has edges) from childhood; an infant's sparse brow is soft-edged, not a patch
    float band = exp(-pow(abs(dz - arch) / thick, mix(2.0, 4.0, detail)));
    // from its head above the inner canthus to its tail past the outer one
    float extent = smoothstep(inner, inner + 0.17, dx) * smoothstep(brow_more.x + 0.15, brow_more.x - 0.25, dx);
    extent *= 1.0 - 0.85 * brow_signs.z * smoothstep(0.05, 0.45, dx);  // sparse lateral third
    // hairs grow upwards at the brow's head and lie flatter towards its tail
    float angle = mix(1.35, 0.3, clamp((dx + 0.7) / 1.5, 0.0, 1.0));
    vec2 along = vec2(cos(angle), sin(angle));
    vec2 p = vec2(dot(vec2(dx, dz), vec2(-along.y, along.x)), dot(vec2(dx, dz), along));
    float hair = noise(vec3(p.x * 90.0, p.y * 12.0, 3.0));  // streaks along the hairs, finer than a pixel
    return clamp(brow_more.y * band * extent * mix(0.6, 1.15, hair), 0.0, 1.0);
}
float lashes() {
    float up = v_lids.z, low = v_lids.w;  // eye widths from the lid margins, >= 0 on the skin
    if (up > 0.3 && low > 0.1) return 0.0;  // away from the lids: the common case, skipped cheaply
    float outer = clamp(v_lids.x + 0.5, 0.0, 1.0);  // 0 at the inner canthus, 1 at the outer
    float along = smoothstep(0.9, 0.75, abs(v_lids.x));  // never far from the eye (they end at the canthi: up)
    // the lash line sits on the margin itself, where the eyeball's visible edge meets the lid (up = 0): drawn
    // from 0.07 eye widths up, it left a band of pale lid between the eye and its lashes, a comb glued on the lid
    float line = smoothstep(0.1 + 0.04 * outer, 0.03, up);  // the upper lash line, heavier laterally
    float reach = 0.14 + 0.06 * outer + 0.14 * brow_signs.w;  // long lashes reach further from the margin
    float strokes = step(0.55 - 0.1 * max(brow_signs.w, 0.0),
                         fract(v_lids.x * 30.0 + 0.4 * noise(vec3(v_lids.x * 40.0, 0.0, 1.0))))
                  * smoothstep(reach, 0.03, up);
    float lower = 0.4 * smoothstep(0.05, 0.01, low);
    // the margin is dark however fair the lashes: lashes overlap there and the lid's rim is in shadow
    return along * clamp(max(max(max(brow_more.z, 0.75) * line, 0.8 * brow_more.z * strokes), brow_more.z * lower),
                         0.0, 1.0);
}
void main() {
    vec3 n = normalize(v_normal);
    vec3 view = vec3(0.0, 0.0, 1.0);
    int region = int(v_region + 0.5);
    vec3 albedo = to_linear(skin);
    float shine = 0.06;
    float skin_w = 1.0;
    if (region == 2) {  // eye front: pupil, iris (with radial fibres and a dark limbal ring), sclera
        float nasal = v_position.x < 0.0 ? 1.0 : -1.0;  // towards the nose, in this eye's local x
        // strabismus: the child's left eye (the image's right) turned in (esotropia)
        vec2 e = v_eye.xy - (v_position.x > 0.0 ? vec2(0.22 * nasal * iris_signs.w, 0.0) : vec2(0.0));
        float r = length(e);
        float a = atan(e.y, e.x);
        float fibres = 0.85 + 0.3 * noise(vec3(a * 9.0, r * 20.0, 0.0));
        // stellate iris: lacy stroma radiating from the pupil like the spokes of a wheel
        fibres = mix(fibres, 0.55 + 0.9 * pow(abs(sin(a * 9.0 + 0.6 * noise(vec3(a * 3.0, 0.0, 2.0)))), 3.0),
                     0.8 * iris_signs.y * smoothstep(0.17, 0.24, r));
        vec3 ir = to_linear(iris) * (0.7 + 0.6 * r) * fibres * (r > 0.36 ? 0.55 : 1.0) * min(1.0, 0.8 / exposure);
        // Brushfield spots: grey-white specks in a ring in the iris's mid-periphery
        // 18 cells round the ring; most hold a speck of its own size, a little in or out of the ring
        float cell = floor(a * 2.865);
        float arc = (fract(a * 2.865) - 0.5) * 0.349 * r;
        float ring_r = 0.29 + 0.04 * (hash(vec3(cell, 2.0, 5.0)) - 0.5);
        float speck_r = 0.012 + 0.018 * hash(vec3(cell, 7.0, 1.0));
        float speck = step(0.3, hash(vec3(cell, 3.0, 9.0)))
                    * smoothstep(speck_r, 0.5 * speck_r, length(vec2(arc, r - ring_r)));
        ir = mix(ir, vec3(0.55, 0.56, 0.56) * min(1.0, 0.8 / exposure), 0.75 * iris_signs.x * speck);
        // iris coloboma: the pupil runs on to the iris's edge, down and towards the nose (a keyhole)
        vec2 toward = normalize(vec2(0.35 * nasal, -1.0));
        float gap = smoothstep(0.11, 0.06, abs(dot(e, vec2(-toward.y, toward.x)))) * step(0.0, dot(e, toward));
        bool pupil = r < 0.17 || (iris_signs.z > 0.5 && gap > 0.5 && r < 0.39);
        // the sclera is metered with the eye, not the skin: it stays below white however dark the skin
        albedo = pupil ? vec3(0.01) : (r < 0.40 ? ir : vec3(0.80, 0.77, 0.75) * min(1.0, 0.65 / exposure));
        // the upper lid and its lashes shade the top of the eyeball (v_lids.z: depth below the lid's margin)
        albedo *= 1.0 - 0.65 * smoothstep(0.16, 0.0, v_lids.z);
        shine = 0.9;
        skin_w = 0.0;
    } else if (region >= 4) {  // eye cavity, mouth cavity, tongue: in shadow
        // tongue; the mouth's lining pink at the lips, darkening with depth (its occlusion); the eye cavity
        // dark (the lid margins' dark line, which face detectors read), but where the open lids show it beyond
        // the eyeball's side (a long fissure's corners), pink conjunctiva
        float corner = smoothstep(0.7, 0.9, abs(v_eye.x)) * smoothstep(0.0, 0.3, v_occlusion);
        vec3 conjunctiva = mix(to_linear(vec3(0.25, 0.10, 0.10)) * 0.4, to_linear(vec3(0.72, 0.50, 0.47)), corner);
        albedo = region == 6 ? to_linear(vec3(0.55, 0.30, 0.30))
               : region == 5 ? to_linear(vec3(0.62, 0.34, 0.33)) : conjunctiva;
        shine = 0.0;
        skin_w = 0.0;
    } else {
        // skin: faint mottling and, past infancy, finer texture (no pores on an infant)
        float mottle = noise(v_position * 180.0) - 0.5;
        float fine = noise(v_position * 1400.0) - 0.5;
        albedo *= 1.0 + 0.035 * mottle + 0.03 * detail * fine;
        // lips rose and a little darker than the skin: skin times (0.92, 0.62, 0.62) gave salmon-orange lips
        float vermilion = smoothstep(0.0, 1.0, v_paint.z);
        albedo = mix(albedo, albedo * vec3(0.74, 0.45, 0.5), vermilion);
        albedo *= mix(vec3(1.0), vec3(1.0, 0.84, 0.82), clamp(v_eye.z, 0.0, 1.0));  // cheeks' warmth (blush)
        vec3 hair_lin = to_linear(hair) * min(1.0, 1.6 / exposure);  // as photographed (see _draw_hair)
        albedo = mix(albedo, hair_lin * 0.7, clamp(v_paint.y, 0.0, 1.0));
        // the fold above the upper lid casts a soft crease
        if (v_lids.z < 0.7) {
            // fading out towards the canthi by the distance from the eye's centre, as the fold does
            float crease = exp(-pow((v_lids.z - 0.38) / 0.07, 2.0)) * smoothstep(0.55, 0.25, abs(v_lids.x));
            albedo *= 1.0 - 0.18 * crease;
        }
        float brow = brow_hairs();
        albedo = mix(albedo, hair_lin * 0.8, 0.95 * brow);
        float lash = lashes();  // lashes are darker than the scalp hair
        if (lid_coloboma > 0.0) {
            // eyelid coloboma: a notch in the lower lid margin's lateral third, its rim's skin and lashes missing,
            // the pink lining of the lid showing in a V that narrows from the margin down
            float depth = 0.05 + 0.14 * lid_coloboma;
            float half_w = 0.075 * (1.0 - v_lids.w / depth);
            float notch = step(v_lids.w, depth) * smoothstep(half_w, half_w - 0.03, abs(v_lids.x - 0.18))
                        * step(v_lids.w, v_lids.z);  // below the fissure, not above it
            albedo = mix(albedo, to_linear(vec3(0.62, 0.32, 0.30)) * 0.8, notch);
            lash *= 1.0 - notch;
        }
        albedo = mix(albedo, mix(hair_lin, vec3(0.004), 0.7) * min(1.0, 1.0 / exposure), 0.95 * lash);
        shine = mix(0.06, 0.02, max(max(brow, lash), v_paint.y)) + 0.04 * vermilion;  // moist, not glossy
        if (v_paint.w > 0.0) {  // fabric: a matte weave
            float weave = 0.92 + 0.08 * noise(v_position * vec3(2200.0, 2200.0, 600.0));
            albedo = mix(albedo, to_linear(cloth) * weave, clamp(v_paint.w, 0.0, 1.0));
            shine *= 1.0 - v_paint.w;
            skin_w = 1.0 - v_paint.w;
        }
    }
    // wrapped diffuse: light reaches past the terminator, as through skin (w = 0.35)
    float key = max((dot(n, key_dir) + 0.35 * skin_w) / (1.0 + 0.35 * skin_w), 0.0);
    key *= mix(0.3, 1.0, lit_by_key(v_light));
    float fill = max((dot(n, fill_dir) + 0.5) / 1.5, 0.0);
    vec3 subsurface = vec3(1.0, 0.45, 0.35) * 0.22 * skin_w * (1.0 - 0.6 * abs(dot(n, key_dir)));
    vec3 h = normalize(key_dir + view);
    float spec = shine * pow(max(dot(n, h), 0.0), region == 2 ? 200.0 : 40.0) * (region == 2 ? 3.0 : 1.0);
    float ao = region == 5 ? mix(0.3, 1.0, v_occlusion) : mix(0.55, 1.0, v_occlusion);
    // the sheen is exposed at most as a face of Monk 6 is: at the exposure that lifts the darkest skin to a
    // photographer's level it turned the face to polished metal (a large soft key light keeps it low)
    vec3 lit = (albedo * (0.85 * key + 0.35 * fill + 0.12) * ao + albedo * subsurface) * exposure
             + vec3(spec) * min(exposure, 2.0);
    if (region == 5) lit = albedo * 0.6 * ao * exposure;  // the mouth's lining: lit from the opening, by depth
    lit = lit / (1.0 + 0.25 * max(lit - 0.8, 0.0));  // a soft shoulder, so raised exposure does not clip
    colour = vec4(pow(clamp(lit, 0.0, 1.0), vec3(1.0 / 2.2)), 1.0);
}
"""
)

_HAIR_VERTEX = """
#version 330
uniform mat4 mvp;
uniform mat3 rot;
in vec3 position;
in vec3 tangent;
in vec2 uv;
in vec2 shade;
uniform mat4 light_vp;
out vec4 v_light;
out vec3 v_tangent;
out vec2 v_uv;
out vec2 v_shade;
void main() {
    gl_Position = mvp * vec4(position, 1.0);
    v_tangent = rot * tangent;
    v_uv = uv;
    v_shade = shade;
    v_light = light_vp * vec4(position, 1.0);
}
"""

_HAIR_FRAGMENT = (
    """
#version 330
uniform vec3 hair;
uniform vec3 key_dir;
uniform vec3 fill_dir;
uniform float exposure;
uniform float strands;
in vec3 v_tangent;
in vec2 v_uv;
in vec2 v_shade;
in vec4 v_light;
out vec4 colour;
"""
    + _SHADOW_GLSL
    + """
float hash(float x) { return fract(sin(x * 91.345 + 7.13) * 43758.5453); }
void main() {
    // many hairs across a card: each a thin stripe with its own length and brightness
    float s = (v_uv.x * 0.5 + 0.5) * strands + v_shade.x * 13.0;
    float id = floor(s);
    float h = hash(id + floor(v_shade.x * 997.0));
    float across = abs(fract(s) - 0.5);
    if (across > 0.18 + 0.22 * (1.0 - v_uv.y) || v_uv.y > 1.0 - 0.35 * h || abs(v_uv.x) > 0.97) discard;
    vec3 t = normalize(v_tangent);
    vec3 view = vec3(0.0, 0.0, 1.0);
    float sin_tl = sqrt(max(1.0 - pow(dot(t, key_dir), 2.0), 0.0));
    float sin_tf = sqrt(max(1.0 - pow(dot(t, fill_dir), 2.0), 0.0));
    vec3 hv = normalize(key_dir + view);
    float sin_th = sqrt(max(1.0 - pow(dot(t, hv), 2.0), 0.0));
    vec3 base = pow(hair, vec3(2.2)) * (0.8 + 0.4 * h) * v_shade.x;
    float depth = mix(0.35, 1.0, v_shade.y) * mix(0.65, 1.0, v_uv.y);  // inner and root hair in shadow
    float shadow = mix(0.4, 1.0, lit_by_key(v_light));
    vec3 lit = base * (0.75 * sin_tl * shadow + 0.3 * sin_tf + 0.12) * depth;
    lit += (vec3(0.05) * pow(sin_th, 90.0) + base * 0.8 * pow(sin_th, 18.0)) * depth * shadow;  // two highlights
    lit *= exposure;
    colour = vec4(pow(clamp(lit, 0.0, 1.0), vec3(1.0 / 2.2)), 1.0);
}
"""
)

_lock = threading.Lock()
# An EGL context is current in the thread that made it, and another thread cannot draw with it ("cannot create
# renderbuffer"): each thread that renders (the app's worker threads) gets its own, with its compiled programs.
_local = threading.local()


def _program(ctx, vertex: str, fragment: str):
    """A compiled shader program, compiled once per thread's context (llvmpipe compiles slowly)."""
    key = (vertex, fragment)
    if key not in _local.programs:
        _local.programs[key] = ctx.program(vertex_shader=vertex, fragment_shader=fragment)
    return _local.programs[key]


def _load_triton_first() -> None:
    """Load triton's bundled LLVM before Mesa's llvmpipe brings its own, when triton is installed (torch pulls it in).

    The two LLVM builds export the same symbols: loaded in the other order (a GL context first, then torch's
    compiler stack imports triton) the process crashes with a segmentation fault. This order is safe.
    """
    import importlib.util

    if importlib.util.find_spec("triton") is not None:
        try:
            import triton._C.libtriton  # noqa: F401
        except Exception:  # noqa: BLE001 - a broken triton is torch's concern, not the renderer's
            pass


def _gl():
    """This thread's software OpenGL context (EGL, Mesa's llvmpipe on a CPU), made on first use."""
    context = getattr(_local, "context", None)
    if context is None:
        _load_triton_first()
        import moderngl

        try:
            # the versioned names: the unversioned ones come only with the -dev packages
            context = moderngl.create_standalone_context(backend="egl", libgl="libGL.so.1", libegl="libEGL.so.1")
        except Exception as err:  # noqa: BLE001 - any GL failure becomes one sentence
            raise RuntimeError(
                f"no OpenGL available for the 3D renderer ({err}); install Mesa's EGL (Debian: libegl1 "
                "libgl1-mesa-dri)"
            ) from None
        context.enable(moderngl.DEPTH_TEST)
        _local.context, _local.programs = context, {}
    return context


@dataclass(frozen=True)
class Look:
    """What is not geometry: colours as sRGB in [0, 1], and the skin's age.

    Attributes:
        skin: skin colour (e.g. a Monk Skin Tone swatch, `models.phenotype.appearance.MONK_HEX`).
        iris: iris colour.
        hair: hair colour, used for the hair, brows and lashes.
        backdrop: background colour.
        cloth: colour of the top.
        detail: 0 to 1, how much fine skin texture shows (0 for an infant's smooth skin).
        iris_signs: amounts 0 to 1 of Brushfield spots (HP:0001088), a stellate iris (HP:0012775), an iris
            coloboma (HP:0000612, drawn from 0.5) and strabismus (HP:0000486: the left eye turned in).
        lid_coloboma: 0 to 1.5, a notch in the lateral third of each lower lid margin (eyelid coloboma,
            HP:0000625, as in Treacher Collins syndrome), deeper with the amount.
    """

    skin: tuple[float, float, float] = (0.92, 0.85, 0.73)
    iris: tuple[float, float, float] = (0.36, 0.21, 0.11)
    hair: tuple[float, float, float] = (0.15, 0.095, 0.06)
    backdrop: tuple[float, float, float] = (0.80, 0.81, 0.83)
    cloth: tuple[float, float, float] = (0.55, 0.56, 0.58)
    detail: float = 0.5
    iris_signs: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    lid_coloboma: float = 0.0


@dataclass(frozen=True)
class Brows:
    """A child's brows and lash line, in units of the eye's width.

    Attributes:
        height: height of the brow above the eye's centre. arch: how much higher its peak is than its ends.
        peak: where the peak sits, towards the temple from the pupil. thickness: half-height of the brow.
        length: how far the brow reaches towards the temple. density: how fully it covers the skin, 0 to 1.
        lashes: darkness of the upper lash line, 0 to 1.
        synophrys: 0 to 1, how far the brows' heads reach the midline and meet (HP:0000664).
        medial_flare: 0 to 1, broadening of the brows' heads (HP:0010747).
        lateral_sparse: 0 to 1, how sparse the lateral third is (HP:0005338).
        lash_length: -1 to 1.5, lashes shorter or longer than typical (HP:0000527 Long eyelashes from about 1).
    """

    height: float = 0.62
    arch: float = 0.1
    peak: float = 0.1
    thickness: float = 0.12
    length: float = 0.75
    density: float = 1.0
    lashes: float = 0.8
    synophrys: float = 0.0
    medial_flare: float = 0.0
    lateral_sparse: float = 0.0
    lash_length: float = 0.0


@dataclass
class Dressing:
    """What is drawn with the head: hair, shoulders in a top, and per-vertex paint of the head.

    Attributes:
        hair: hair cards (`models.phenotype.hair3d.grow`), or None.
        torso: shoulders and top (`models.phenotype.body3d.build_torso`), or None.
        scalp: (V,) float in [0, 1], hair colour painted on the scalp under the cards.
        lips: (V,) float in [0, 1], vermilion of the lips.
        blush: (V,) float in [0, 1], the cheeks' warmer colour.
        brows: the brows' shape and the lash line (`Brows`).
    """

    hair: object | None = None
    torso: object | None = None
    scalp: np.ndarray | None = None
    lips: np.ndarray | None = None
    blush: np.ndarray | None = None
    brows: Brows = Brows()


_LUMA = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709 luminance of linear RGB


def exposure_for(skin: tuple[float, float, float]) -> float:
    """Exposure for a skin colour, as a portrait photographer meters on the face.

    The lit face is placed at ``0.62 * L ** 0.33`` in linear light (L: the skin's linear luminance): Monk 1
    about 1.7 stops over middle grey (0.18), Monk 10 about a quarter stop under it, so that light skin does
    not burn out and dark skin keeps its shading and detail instead of turning black. Every Monk tone is
    metered by this rule; the gain is kept within 0.5 to 16 only for colours darker or lighter than the
    scale's (clothes and hair are exposed with the face, as in a photograph).

    Before 2026-12-07 the face was placed at ``0.62 * L ** 0.38`` with the gain capped at 8, which held
    Monk 10 a quarter stop under its own rule: OpenCV's Haar cascade then found 90.6 % of Monk 10
    children (``benchmarks.detection``), 95.8 % of 240 more; metered as now, 98.3 % of those 240, and the
    shipped classifier named 86.6 % of 262 test children of Monk 9 and 10 against 85.0 %.

    Args:
        skin: sRGB in [0, 1].

    Returns:
        the linear gain applied to the lit face (float).
    """
    _, luminance = _linear_skin(skin)
    face_light = 0.9  # what the key, fill and ambient lights give a face-on surface (see _FRAGMENT)
    return float(np.clip(_metered(luminance) / (luminance * face_light), 0.5, 16.0))


def _linear_skin(skin) -> tuple[np.ndarray, float]:
    """A skin colour (sRGB in [0, 1]) in linear light, and its luminance (at least 1e-4)."""
    linear = np.power(np.asarray(skin, dtype=np.float64), 2.2)
    return linear, max(float(linear @ _LUMA), 1e-4)


def _metered(luminance: float) -> float:
    """Where the metering rule places a lit face of this linear luminance (see `exposure_for`)."""
    return 0.62 * luminance**0.33


#: CIELAB chroma (C*ab) the metered skin's own colour is kept within, before the shader's blush and scattered red
#: (which add about 5 at the light tones and little at the dark): rendered cheeks then lie at about 15-27.
#: Spectrophotometry of real faces puts facial skin at C*ab about 20-29 (five clusters of 120 White, Black and
#: Asian adults; Wee AG et al., "Proposed shade guide for human facial skin", IADR 2009, abstract 120461), with
#: redness (a*) alike across ethnic groups (Xiao K et al. 2017, Skin Res Technol 23:21-29) and the darkest skin
#: less chromatic ("blackness"); Monk 1's swatch lit as metered gave a grey-white face (C* 10), Monk 6-8's an
#: orange-red one (C* 32-36).
SKIN_CHROMA: tuple[float, float] = (10.0, 24.0)


@functools.lru_cache(maxsize=64)
def photographed_skin(skin: tuple[float, float, float]) -> tuple[float, float, float]:
    """The skin colour the shader lights: ``skin`` with its chroma, as the metered face shows it, within
    `SKIN_CHROMA`.

    The colour is pushed from or towards its own luminance in linear light (saturation), so its luminance, and
    so its exposure (`exposure_for`), and its hue are kept; only a colour whose lit chroma is outside
    `SKIN_CHROMA` changes (Monk 3-5 and 9-10 as they were).

    Args:
        skin: sRGB in [0, 1] (a tuple, so that the answer can be cached).

    Returns:
        sRGB in [0, 1].
    """
    linear, luminance = _linear_skin(skin)
    metered = _metered(luminance) / luminance  # the face as exposure_for places it

    def at(k: float) -> tuple[float, np.ndarray]:
        albedo = np.clip(luminance + k * (linear - luminance), 0.0, 1.0)
        lit = np.clip(albedo * metered, 0.0, 1.0) ** (1 / 2.2)
        lab = cv2.cvtColor(lit.astype(np.float32).reshape(1, 1, 3), cv2.COLOR_RGB2Lab)[0, 0]
        return float(np.hypot(lab[1], lab[2])), albedo

    chroma, albedo = at(1.0)
    goal = float(np.clip(chroma, *SKIN_CHROMA))
    k = 1.0
    for _ in range(6):  # chroma grows nearly linearly with k; a few ratio steps settle it
        if abs(chroma - goal) < 0.1 or chroma < 1e-3:
            break
        k *= goal / chroma
        chroma, albedo = at(k)
    return tuple(float(c) for c in albedo ** (1 / 2.2))  # type: ignore[return-value]


@functools.lru_cache(maxsize=8)
def _topology(key: bytes, n_vertices: int):
    """Sparse matrices of a triangle list (cached: every child of the head model shares its topology):
    vertex-by-face incidence, and the row-normalised vertex adjacency (each row averages the neighbours)."""
    from scipy import sparse

    faces = np.frombuffer(key, dtype=np.int64).reshape(-1, 3)
    f = len(faces)
    incidence = sparse.csr_matrix(
        (np.ones(3 * f), (faces.reshape(-1), np.repeat(np.arange(f), 3))), shape=(n_vertices, f)
    )
    pairs = ((0, 1), (1, 2), (2, 0), (1, 0), (2, 1), (0, 2))
    rows = np.concatenate([faces[:, a] for a, _ in pairs])
    cols = np.concatenate([faces[:, b] for _, b in pairs])
    adjacency = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_vertices, n_vertices))
    count = np.asarray(adjacency.sum(1)).ravel()
    mean = sparse.diags(1 / np.maximum(count, 1)) @ adjacency
    return incidence, mean.tocsr()


def _topology_of(faces: np.ndarray, n_vertices: int):
    return _topology(np.ascontiguousarray(faces, dtype=np.int64).tobytes(), n_vertices)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V, 3) float32 unit normals, area-weighted over each vertex's triangles."""
    tri = vertices[faces]  # (F, 3, 3)
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n = _topology_of(faces, len(vertices))[0] @ face_n
    return (n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _occlusion(vertices: np.ndarray, normals: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V,) float32 in [0, 1], 1 where open: how far a vertex sits out of its neighbours' mean (concavity)."""
    neighbours = _topology_of(faces, len(vertices))[1] @ vertices
    offset = ((vertices - neighbours) * normals).sum(1)  # >0 convex, <0 concave
    return np.clip(0.5 + offset / 0.004, 0.0, 1.0).astype(np.float32)


def _eye_coordinates(
    vertices: np.ndarray, faces: np.ndarray, regions: np.ndarray, eye_region: int, blush: np.ndarray | None = None
) -> np.ndarray:
    """(V, 3): for eye-front vertices and the eye cavity beside them, (x, z) offset from their eye's axis in eye
    radii, zeros elsewhere; the third column carries the skin's blush (the shader reads it on skin only)."""
    out = np.zeros((len(vertices), 3), dtype=np.float32)
    if blush is not None:
        out[:, 2] = blush
    ids = np.unique(faces[regions == eye_region])
    if not len(ids):
        return out
    cavity = np.unique(faces[regions == 4])
    for sign in (-1, 1):  # the two eyes
        side = ids[np.sign(vertices[ids, 0]) == sign]
        if not len(side):
            continue
        centre = vertices[side].mean(0)
        radius = np.abs(vertices[side, [0]] - centre[0]).max()
        both = np.concatenate([side, cavity[np.sign(vertices[cavity, 0]) == sign]])
        out[both, 0] = (vertices[both, 0] - centre[0]) / radius
        out[both, 1] = (vertices[both, 2] - centre[2]) / radius
    return out


def _lid_coordinates(vertices: np.ndarray, normals: np.ndarray, faces: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """(V, 4) float32 per vertex, for the shader's brows and lashes, in units of the nearer eye's width:
    (dx towards the temple, dz up) from that eye's centre, and the height above the upper lid margin and
    the depth below the lower one (beyond the canthi, from the canthus's height). Far from the eyes, or facing
    away from the camera's side of the head, the values are large (no brow, no lash). Linear in position
    near the eyes, so the fragment shader can draw sharp brows and lash lines from their interpolation. On the
    eyeball the third value is its depth below the upper lid margin (for the shadow the lid and lashes cast)."""
    far = 9.0
    out = np.full((len(vertices), 4), far, dtype=np.float32)
    eyes = np.unique(faces[regions == 2])
    skin = np.unique(faces[regions == 1])
    margin = np.intersect1d(skin, np.unique(faces[regions == 4]))  # the skin that borders the eye's opening
    front = skin[normals[skin, 1] < -0.2]  # facing the camera (the face looks towards -y)
    for sign in (-1.0, 1.0):
        side = eyes[np.sign(vertices[eyes, 0]) == sign]
        ring = margin[np.sign(vertices[margin, 0]) == sign]
        if not len(side) or len(ring) < 4:
            continue
        centre = vertices[side].mean(0)
        width = max(float(np.ptp(vertices[side, 0])), 1e-3)
        # the skin facing the camera on this side, and all of the lids (whose rims turn into the opening)
        # (the lateral canthus is set back, behind the eyeball's centre: held to the front of it, the lateral third
        # of each lid had no coordinates, so no lashes or crease)
        near = skin[(np.linalg.norm(vertices[skin] - centre, axis=1) < 0.8 * width)
                    & (vertices[skin, 1] < centre[1] + 0.4 * width)]  # fmt: skip
        mine = np.union1d(front, near)
        mine = mine[np.sign(vertices[mine, 0]) == sign]
        x, z = vertices[mine, 0], vertices[mine, 2]
        out[mine, 0] = (x - centre[0]) / width * sign
        out[mine, 1] = (z - centre[2]) / width
        # the lids meet at the canthi (the ring's ends); each lid is the ring on its side of the line between them,
        # canthi included (split at the eye's centre height, the upper lid spanned only the middle of the fissure,
        # and the crease and lashes drawn from it stopped square a third of the way to each corner)
        inner, outer = ring[np.argmin(vertices[ring, 0])], ring[np.argmax(vertices[ring, 0])]
        t = (vertices[ring, 0] - vertices[inner, 0]) / max(float(vertices[outer, 0] - vertices[inner, 0]), 1e-9)
        chord = vertices[inner, 2] + t * (vertices[outer, 2] - vertices[inner, 2])
        for col, upper in ((2, True), (3, False)):
            lid = ring[(vertices[ring, 2] >= chord) if upper else (vertices[ring, 2] <= chord)]
            if len(lid) < 2:
                continue
            order = np.argsort(vertices[lid, 0])
            lx, lz = vertices[lid[order], 0], vertices[lid[order], 2]
            # beyond the canthi, the distance to the canthus (its horizontal part weighed 1.5 times), so the values
            # run on smoothly and lashes end at the fissure's own corners, wherever a long or short fissure puts
            # them: cut off at the lid's ends they ended in square corners (a grey box over each eye), and faded
            # by the distance from the eyeball's centre they hid a longer fissure's corners from face models
            edge = np.interp(x, lx, lz)
            past = (np.maximum(lx[0] - x, 0.0) + np.maximum(x - lx[-1], 0.0)) / width
            d = ((z - edge) if upper else (edge - z)) / width
            d = np.where(d >= 0, np.hypot(d, 1.5 * past), far)
            out[mine, col] = d  # far on the other side of the margin: the opening, the other lid
            if upper:  # the eyeball's own: its depth below the upper lid's margin, for the lid's shadow on it
                ex = vertices[side, 0]
                inside = (ex >= lx[0]) & (ex <= lx[-1])
                below = np.clip((np.interp(ex, lx, lz) - vertices[side, 2]) / width, 0.0, None)
                out[side[inside], 2] = below[inside]
    return out


def _mouth_depth(v: np.ndarray, faces: np.ndarray, face_region: np.ndarray, occlusion: np.ndarray) -> np.ndarray:
    """Occlusion with the inside of the mouth graded by depth: 1 at the lips' edge, 0 from 8 mm inside, so the
    lining seen at a closed mouth's corners reads as lip, not as a black hole."""
    cavity = np.unique(faces[face_region == 5])
    ring = np.intersect1d(cavity, np.unique(faces[face_region != 5]))
    if not len(ring):
        return occlusion
    from scipy.spatial import cKDTree

    depth, _ = cKDTree(v[ring]).query(v[cavity])
    out = occlusion.copy()
    out[cavity] = np.clip(1.0 - depth / 0.008, 0.0, 1.0)
    return out


def camera(head: np.ndarray, view: str, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The portrait camera framed on a head: a 30-degree lens, the eyes a little above the centre.

    Args:
        head: (V, 3) head vertices, metres (+z up, the face towards -y). view: a key of `VIEWS`. size: pixels.

    Returns:
        (offset (3,), rotation (3, 3), mvp (4, 4)) float64: a point p of the scene projects to
        ``mvp @ [rot-free p - offset, 1]`` in clip space (see `project`).
    """
    offset = (head.min(0) + head.max(0)) / 2
    v = head - offset
    yaw = np.radians(VIEWS[view])
    to_camera = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], dtype=np.float64)
    turn = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    rot = turn @ to_camera
    cam = v @ rot.T
    height = cam[:, 1].max() - cam[:, 1].min()
    fov = np.radians(30.0)
    distance = FRAMING * height / np.tan(fov / 2) + cam[:, 2].max()
    f = 1 / np.tan(fov / 2)
    near, far = 0.05, distance + 1.0
    proj = np.array(
        [[f, 0, 0, 0], [0, f, 0, 0], [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)], [0, 0, -1, 0]]
    )
    view_m = np.eye(4)
    view_m[:3, :3] = rot
    view_m[2, 3] = -distance
    view_m[1, 3] = -0.12 * height  # the eyes a little above the centre, shoulders in the frame
    return offset, rot, proj @ view_m


def project(points: np.ndarray, offset: np.ndarray, mvp: np.ndarray, size: int) -> np.ndarray:
    """(N, 2) float32 pixel coordinates (x right, y down) of scene points (N, 3) in an image of `size` pixels."""
    p = np.hstack([np.asarray(points, np.float64) - offset, np.ones((len(points), 1))]) @ mvp.T
    ndc = p[:, :2] / p[:, 3:4]
    return np.stack([(ndc[:, 0] + 1) / 2 * size, (1 - ndc[:, 1]) / 2 * size], axis=1).astype(np.float32)


def render_head(
    vertices: np.ndarray,
    faces: np.ndarray,
    face_region: np.ndarray,
    view: str = "frontal",
    size: int = 256,
    look: Look = Look(),
    dressing: Dressing | None = None,
    ids: bool = False,
) -> np.ndarray:
    """A studio portrait of a head.

    Args:
        vertices: (V, 3) float positions in metres (+z up, the face towards -y), from `HeadModel.vertices`.
        faces: (F, 3) int triangles.
        face_region: (F,) region index per triangle (`HeadModel.face_regions`: 2 eye front, 4-6 cavities).
        view: a key of `VIEWS`.
        size: image width and height in pixels, 64 to 1024.
        look: colours.
        dressing: hair, shoulders and paint drawn with the head, or None for the bare head.
        ids: return, instead of the portrait, which head vertex each pixel shows ((size, size) int32, -1
            where no head vertex is in front: backdrop, hair or clothing), for region masks.

    Returns:
        (size, size, 3) uint8 RGB (or the vertex-id image when `ids`).

    Raises:
        ValueError: an unknown view or a size out of range.
        RuntimeError: no OpenGL (Mesa's EGL) on this machine.
    """
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; one of {', '.join(VIEWS)}")
    if not 64 <= size <= 1024:
        raise ValueError(f"size must be 64 to 1024 pixels, not {size}")
    dressing = dressing or Dressing()
    v = np.asarray(vertices, dtype=np.float64)
    offset, rot, mvp = camera(v, view, size)
    if ids:  # one sample per pixel: masks at the image's own resolution
        with _lock:
            ctx = _gl()
            fbo = ctx.simple_framebuffer((size, size), components=4)
            fbo.use()
            data, released = _draw_ids(ctx, mvp, v - offset, faces, dressing, offset, fbo, size)
            for obj in [fbo, *released]:
                obj.release()
        return data
    normals = vertex_normals(v, faces)
    zeros = np.zeros(len(v), np.float32)
    paint = np.stack(
        [
            zeros,
            zeros if dressing.scalp is None else dressing.scalp,
            zeros if dressing.lips is None else dressing.lips,
            zeros,
        ],
        axis=1,
    )
    attributes = np.hstack(
        [
            (v - offset).astype(np.float32),
            normals,
            np.zeros((len(v), 1), np.float32),  # the region: set per triangle below
            _mouth_depth(v, faces, face_region, _occlusion(v, normals, faces))[:, None],
            _eye_coordinates(v, faces, face_region, 2, dressing.blush),
            paint,
            _lid_coordinates(v, normals, faces, face_region),
        ]
    ).astype(np.float32)
    triangles = np.asarray(faces, dtype=np.int32)
    regions = np.asarray(face_region, dtype=np.float32)
    torso = dressing.torso
    if torso is not None:  # the torso joins the same buffers, painted as fabric below its neckline
        t_attr = np.zeros((len(torso.positions), attributes.shape[1]), np.float32)
        t_attr[:, 0:3] = torso.positions - offset
        t_attr[:, 3:6] = torso.normals
        t_attr[:, 6] = 1
        t_attr[:, 7] = 1
        t_attr[:, 14] = torso.cloth
        t_attr[:, 15:19] = 9.0  # no brows or lashes on the clothes
        triangles = np.vstack([triangles, torso.triangles + len(v)])
        regions = np.concatenate([regions, np.ones(len(torso.triangles), np.float32)])
        attributes = np.vstack([attributes, t_attr])
    # each triangle its own three vertices, so that its region is its own: shared vertices made the skin at the
    # lid margin and the lips' edge half eye, half cavity
    attributes = attributes[triangles.reshape(-1)]
    attributes[:, 6] = np.repeat(regions, 3)
    triangles = np.arange(len(attributes), dtype=np.int32).reshape(-1, 3)
    scale = 2  # supersampled, then averaged: smooth edges and fine hairs
    with _lock:
        ctx = _gl()
        fbo = ctx.simple_framebuffer((size * scale, size * scale), components=4)
        fbo.use()
        fbo.clear(*look.backdrop, 1.0, depth=1.0)
        released = [fbo]
        light_vp = _light_matrix(rot, attributes[:, :3])
        meshes = [(attributes[:, :3], triangles)]
        if dressing.hair is not None and len(dressing.hair.triangles):
            meshes.append((dressing.hair.positions - offset, dressing.hair.triangles))
        shadow = _shadow_map(ctx, light_vp, meshes, released)
        fbo.use()
        shadow.use(location=0)
        program = _program(ctx, _VERTEX, _FRAGMENT)
        _set_camera_and_lights(program, mvp, rot, light_vp, look.hair, exposure_for(look.skin))
        program["skin"].value = photographed_skin(tuple(float(c) for c in look.skin))
        program["iris"].value = tuple(look.iris)
        program["cloth"].value = tuple(look.cloth)
        program["detail"].value = float(np.clip(look.detail, 0, 1))
        b = dressing.brows
        program["brow_shape"].value = (b.height, b.arch, b.peak, b.thickness)
        program["brow_more"].value = (b.length, b.density, b.lashes)
        program["brow_signs"].value = (b.synophrys, b.medial_flare, b.lateral_sparse, b.lash_length)
        program["iris_signs"].value = tuple(float(x) for x in look.iris_signs)
        program["lid_coloboma"].value = float(np.clip(look.lid_coloboma, 0.0, 1.5))
        vbo = ctx.buffer(attributes.tobytes())
        ibo = ctx.buffer(triangles.tobytes())
        vao = ctx.vertex_array(
            program,
            [(vbo, "3f 3f 1f 1f 3f 4f 4f", "position", "normal", "region", "occlusion", "eye_local", "paint", "lids")],
            ibo,
        )
        vao.render()
        released += [vao, vbo, ibo]
        if dressing.hair is not None and len(dressing.hair.triangles):
            released += _draw_hair(ctx, mvp, rot, dressing.hair, offset, look, light_vp)
        data = np.frombuffer(fbo.read(components=3), dtype=np.uint8).reshape(size * scale, size * scale, 3)
        for obj in released:
            obj.release()
    return _downsample(data[::-1], scale)


def _downsample(data: np.ndarray, scale: int) -> np.ndarray:
    """(H / scale, W / scale, 3) uint8: the mean of each scale x scale block of a (H, W, 3) uint8 image, rounded
    half to even as `np.round` rounds, in integers (the float mean took 20 ms of a 256 px portrait)."""
    h, w, c = data.shape
    blocks = scale * scale
    total = np.zeros((h // scale, w // scale, c), np.uint16)
    for i in range(scale):
        for j in range(scale):
            total += data[i::scale, j::scale]
    quotient, remainder = np.divmod(total, blocks)
    half = blocks / 2
    up = (remainder > half) | ((remainder == half) & (quotient % 2 == 1))
    return (quotient + up).astype(np.uint8)


def _set_camera_and_lights(program, mvp, rot, light_vp, hair, exposure: float) -> None:
    """The uniforms the skin and hair shaders share: camera, key-light shadow, lights, hair colour, exposure."""
    program["shadow_map"].value = 0
    program["light_vp"].write(light_vp.T.tobytes())
    program["mvp"].write(mvp.astype(np.float32).T.tobytes())
    program["rot"].write(rot.astype(np.float32).T.tobytes())
    program["hair"].value = tuple(hair)
    program["exposure"].value = float(exposure)
    program["key_dir"].value = tuple(_unit(KEY_LIGHT))
    program["fill_dir"].value = tuple(_unit(FILL_LIGHT))


def _draw_hair(ctx, mvp, rot, hair, offset, look, light_vp) -> list:
    program = _program(ctx, _HAIR_VERTEX, _HAIR_FRAGMENT)
    _set_camera_and_lights(program, mvp, rot, light_vp, look.hair, min(exposure_for(look.skin), 1.6))
    # hair colours are as photographed: the face's extra exposure for dark skin lightens them only a little
    program["strands"].value = 9.0
    data = np.hstack([hair.positions - offset, hair.tangents, hair.uv, hair.shade]).astype(np.float32)
    vbo = ctx.buffer(data.tobytes())
    ibo = ctx.buffer(hair.triangles.astype(np.int32).tobytes())
    vao = ctx.vertex_array(program, [(vbo, "3f 3f 2f 2f", "position", "tangent", "uv", "shade")], ibo)
    vao.render()
    return [vao, vbo, ibo]


KEY_LIGHT = (-0.45, 0.55, 0.70)  # camera space: from the upper left, in front
FILL_LIGHT = (0.6, 0.1, 0.8)  # camera space: from the right, softer
SHADOW_SIZE = 1024

_DEPTH_VERTEX = """
#version 330
uniform mat4 light_vp;
in vec3 position;
void main() { gl_Position = light_vp * vec4(position, 1.0); }
"""
_DEPTH_FRAGMENT = """
#version 330
void main() {}
"""


def _light_matrix(rot: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(4, 4) float32 orthographic view-projection of the key light, covering `points` (scene space)."""
    w = rot.T @ _unit(KEY_LIGHT).astype(np.float64)  # towards the light, in the scene's frame
    u = np.cross([0.0, 0.0, 1.0], w)
    u /= np.linalg.norm(u)
    up = np.cross(w, u)
    radius = float(np.linalg.norm(points, axis=1).max()) * 1.05
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = u / radius, up / radius, -w / radius
    return m.astype(np.float32)


def _shadow_map(ctx, light_vp: np.ndarray, meshes, released: list):
    """Depth of the scene seen from the key light, as a comparison texture for shadow lookups."""
    import moderngl

    depth = ctx.depth_texture((SHADOW_SIZE, SHADOW_SIZE))
    depth.compare_func = "<="
    depth.repeat_x = depth.repeat_y = False
    depth.filter = (moderngl.LINEAR, moderngl.LINEAR)  # hardware 2 x 2 comparison per tap
    fbo = ctx.framebuffer(depth_attachment=depth)
    fbo.use()
    fbo.clear(depth=1.0)
    program = _program(ctx, _DEPTH_VERTEX, _DEPTH_FRAGMENT)
    program["light_vp"].write(light_vp.T.tobytes())
    released += [depth, fbo]
    for positions, triangles in meshes:
        vbo = ctx.buffer(np.asarray(positions, np.float32).tobytes())
        ibo = ctx.buffer(np.asarray(triangles, np.int32).tobytes())
        vao = ctx.vertex_array(program, [(vbo, "3f", "position")], ibo)
        vao.render()
        released += [vao, vbo, ibo]
    return depth


#: Codes of `render_head(..., ids=True)` where no head vertex shows.
ID_BACKDROP, ID_TORSO, ID_HAIR = -1, -2, -3

_ID_VERTEX = """
#version 330
uniform mat4 mvp;
in vec3 position;
in float code;
flat out int v_code;
void main() { gl_Position = mvp * vec4(position, 1.0); v_code = int(code + 0.5); }
"""
_ID_FRAGMENT = """
#version 330
flat in int v_code;
out vec4 colour;
void main() {
    colour = vec4(float(v_code & 255), float((v_code >> 8) & 255), float((v_code >> 16) & 255), 255.0) / 255.0;
}
"""


def _draw_ids(ctx, mvp, head, faces, dressing, offset, fbo, full) -> tuple[np.ndarray, list]:
    """(full, full) int32: the head vertex each pixel shows (each triangle flat with its first vertex), or
    `ID_BACKDROP`, `ID_TORSO`, `ID_HAIR` (hair cards count whole, as the hair region)."""
    program = _program(ctx, _ID_VERTEX, _ID_FRAGMENT)
    program["mvp"].write(mvp.astype(np.float32).T.tobytes())
    released = []
    tri = np.asarray(faces)
    parts = [(head[tri.reshape(-1)], np.repeat(tri[:, 0] + 3, 3))]
    for code, part in ((1, dressing.torso), (2, dressing.hair)):
        if part is not None and len(part.triangles):
            parts.append(((part.positions - offset)[part.triangles.reshape(-1)], np.full(part.triangles.size, code)))
    fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
    for p, code in parts:
        vbo = ctx.buffer(np.hstack([p, code[:, None]]).astype(np.float32).tobytes())
        vao = ctx.vertex_array(program, [(vbo, "3f 1f", "position", "code")])
        vao.render()
        released += [vao, vbo]
    raw = np.frombuffer(fbo.read(components=4), dtype=np.uint8).reshape(full, full, 4)[::-1].astype(np.int32)
    code = raw[..., 0] + (raw[..., 1] << 8) + (raw[..., 2] << 16)
    return np.where(code >= 3, code - 3, np.choose(np.clip(code, 0, 2), [ID_BACKDROP, ID_TORSO, ID_HAIR])), released


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return (v / np.linalg.norm(v)).astype(np.float32)


def preview_sheet(size: int = 192) -> np.ndarray:
    """Children at 1, 5, 10 and 15 years (girls and boys, three ancestries, Monk tones 2 to 8), each frontal,
    three-quarter and in profile: a (4 * size, 3 * size, 3) uint8 sheet for looking at the engine."""
    from models.phenotype.appearance import EYE_RGB, HAIR_RGB, MONK_HEX
    from models.phenotype.head_model import HeadModel, HeadParams
    from models.phenotype.portrait3d import dress

    model = HeadModel.load()
    rows = []
    for seed, (years, sex, ancestry, tone, eye, hair) in enumerate(
        (
            (1, "female", "european", 2, "blue", "blond"),
            (5, "male", "african", 8, "dark-brown", "black"),
            (10, "female", "asian", 5, "brown", "black"),
            (15, "male", "european", 3, "green", "brown"),
        )
    ):
        skin = tuple(int(MONK_HEX[tone - 1][i : i + 2], 16) / 255 for i in (0, 2, 4))
        v = model.vertices(HeadParams(years, sex, ancestry))
        dressing, cloth = dress(model, v, years, sex, np.random.default_rng(seed))
        look = Look(skin=skin, iris=EYE_RGB[eye], hair=HAIR_RGB[hair], cloth=cloth, detail=min(years / 14, 1))
        rows.append(
            np.hstack([render_head(v, model.faces, model.face_region, view, size, look, dressing) for view in VIEWS])
        )
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
