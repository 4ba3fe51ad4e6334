"""What the Explain tab shows for one explanation, in words and tables: the `ExplainResult` record,
readable names of the saliency methods, baselines and classes, the settings in words, and the tables
of regions, HPO features and the classifier's top classes.

Pure helpers without components, called by `ui.explain`; the numbers come from `models.saliency`
(`report.with_remainder`, `report.top_classes`), feature names from *Elements of Morphology* and HPO
(`models.phenotype.morphology`, the catalogue). Saliency shows what the model uses, not what a
clinician should look for; nothing here is for diagnosis.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.constants import UNAFFECTED
from models.phenotype.catalog import load_catalog
from models.phenotype.morphology import FEATURES
from models.phenotype.spec import RenderSpec
from models.saliency import app_settings, report
from ui import notice
from ui.generate_tables import syndrome_choices

TOP_K = 5

#: Readable names of `models.saliency.METHODS`.
METHOD_NAMES: dict[str, str] = {
    "integrated_gradients": "Integrated Gradients",
    "saliency": "Saliency",
    "gradcam": "Grad-CAM",
    "occlusion": "Occlusion",
    "smoothgrad": "SmoothGrad over Integrated Gradients (Captum NoiseTunnel)",
}
BASELINE_NAMES: dict[str, str] = {
    "black": "Black image",
    "blurred": "Blurred face",
    "counterfactual": "Counterfactual: the same child without the syndrome (drawn faces only)",
}
USES_BASELINE = ("integrated_gradients", "smoothgrad")

REGION_COLUMNS = ["Region", "Share", "Share / area"]
HPO_COLUMNS = ["HPO id", "Feature"]
TOP_COLUMNS = ["Rank", "Syndrome", "Probability"]


@dataclass
class ExplainResult:
    """What the Explain tab shows for one face.

    Attributes:
        overlay: (336, 336, 3) uint8 heat-map overlay (cividis), marked SYNTHETIC for drawn faces only.
        crop: (336, 336, 3) uint8 aligned crop that was explained, upscaled; marked like `overlay`.
        synthetic: True for a drawn face, False for an upload.
        settings: Markdown: the face, method and its settings, target, baseline, region source.
        regions: `REGION_COLUMNS`, most area-dense first, then `REMAINDER`; shares sum to 1.
        hpo: `HPO_COLUMNS`, the features present on a drawn face (empty for uploads).
        top: `TOP_COLUMNS` for the top `TOP_K` classes; without "Probability" when hidden.
        show_probabilities: False for an upload unless research mode is on.
    """

    overlay: np.ndarray
    crop: np.ndarray
    synthetic: bool
    settings: str
    regions: pd.DataFrame
    hpo: pd.DataFrame
    top: pd.DataFrame
    show_probabilities: bool


@functools.lru_cache(maxsize=1)
def _labels() -> dict[str, str]:
    """Catalogue key -> display label ``"Name (OMIM:xxxxxx)"``."""
    return {key: label for label, key in syndrome_choices()}


def class_label(key: str) -> str:
    """Display label of a classifier class (a catalogue key); the key itself when not in the catalogue."""
    return _labels().get(key, key)


def settings_text(method: str) -> str:
    """The settings the app gives a method on this machine (`models.saliency.app_settings`), in words."""
    words = {
        "steps": "{} integration steps",
        "samples": "{} noise samples",
        "window": "{} px occlusion window",
        "precision": "{} gradients",
    }
    names = {"bf16": "bfloat16", "fp32": "float32"}
    parts = [words[k].format(names.get(v, v)) for k, v in app_settings(method).items() if k in words]
    if not parts:
        return "one gradient pass (nothing to cap)"
    return ", ".join(parts) + " (capped so that a map takes about a second)"


def _face_line(spec: RenderSpec | None, entry) -> str:
    if spec is None:
        return "**Face**: your uploaded image (deleted from the server after processing; not stored)."
    who = notice.UNAFFECTED if entry.key == UNAFFECTED else notice.with_syndrome(class_label(entry.key))
    return (
        f"**Face**: {who}, {spec.age:g} years, {spec.sex}, Monk skin tone {spec.skin_tone}, seed {spec.seed}; "
        "synthetic, drawn by the phenotype renderer."
    )


def region_table(regions) -> pd.DataFrame:
    """Where the map is, per face region.

    Args:
        regions: the explanation's `RegionShare` list, most area-dense first.

    Returns:
        a table with `REGION_COLUMNS`: share of the positive attribution (sums to 1 with the remainder row)
        and that share divided by the region's share of the area.
    """
    rows = [[r.region, round(r.share, 3), round(r.density, 2)] for r in report.with_remainder(regions)]
    return pd.DataFrame(rows, columns=REGION_COLUMNS)


def hpo_table(hpo_ids) -> pd.DataFrame:
    """The HPO features present on a drawn face, as a table with `HPO_COLUMNS` (empty for uploads)."""
    names = load_catalog().term_names
    rows = [[h, FEATURES[h].name if h in FEATURES else names.get(h, "")] for h in hpo_ids]
    return pd.DataFrame(rows, columns=HPO_COLUMNS)


def top_table(model, crop: np.ndarray, show: bool) -> pd.DataFrame:
    """The classifier's top `TOP_K` classes for the explained crop.

    Args:
        model: the loaded classifier.
        crop: the aligned crop, (H, W, 3) uint8.
        show: keep the "Probability" column (drawn faces, or research mode for uploads).

    Returns:
        a table with `TOP_COLUMNS`, without "Probability" when `show` is False.
    """
    top = report.top_classes(model, crop, TOP_K)
    table = pd.DataFrame(
        [[i + 1, class_label(name), round(p, 3)] for i, (name, p) in enumerate(top)], columns=TOP_COLUMNS
    )
    return table if show else table.drop(columns="Probability")


def settings_markdown(
    result, method, spec, entry, show_score: bool, seconds: float, target_chosen: bool = True
) -> str:
    """The face, method and its settings, target, baseline, score and region source, as Markdown.

    Args:
        result: the `models.saliency.Explanation`.
        method: one of `models.saliency.METHODS`.
        spec: the drawn face's `RenderSpec`, or None for an upload.
        entry: the drawn face's catalogue entry, or None for an upload.
        show_score: include the explained logit and the classifier's top-1 class (both hidden for
            uploads outside research mode, where a syndrome named for a photograph of a child could be
            read as a diagnosis).
        seconds: how long the explanation took.
        target_chosen: the user chose the class to explain; False when it is the classifier's top-1.
    """
    a = result.attribution
    target = f"{class_label(a.target)}" if show_score or target_chosen else "the classifier's top-1 class (hidden)"
    if a.contrast:
        target += " minus the unaffected logit (the map shows what makes the face look syndromic)"
    else:
        target += " (its logit alone)"
    lines = [
        _face_line(spec, entry),
        f"**Method**: {METHOD_NAMES[method]}; {settings_text(method)}.",
        f"**Target**: {target}.",
    ]
    if method in USES_BASELINE:
        lines.append(f"**Baseline**: {BASELINE_NAMES[a.baseline].split(' (')[0]}.")
    else:
        lines.append("**Baseline**: not used by this method.")
    if show_score:
        lines.append(f"**Score** (the explained logit{' difference' if a.contrast else ''}): {a.score:.2f}.")
    source = "the renderer's region masks" if result.region_source == "render masks" else "the MediaPipe face mesh"
    lines.append(f"**Regions** from {source}. Took {seconds:.1f} s.")
    return "\n\n".join(lines)
