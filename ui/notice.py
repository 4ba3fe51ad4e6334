"""Notice text shown on every tab, and the wording rules the app follows.

Wording is person-first: "a child with Down syndrome", never "a Down syndrome child".
"""

from __future__ import annotations

#: One-line notice, shown at the top of the page and written into every saved PNG.
NOTICE = (
    "Educational and research use only — not for diagnosis. "
    "Every face shown is synthetic (computer-generated); no real child is shown."
)

#: The page header: what the app is, then the notice, prominently.
HEADER_MARKDOWN = f"""# PhenoFace
Synthetic faces of children with rare genetic syndromes, for genetic counsellors, trainees and researchers.

> **{NOTICE}**
"""

#: The page footer: what the faces are drawn from and what they cannot do.
FOOTER_MARKDOWN = """---
The faces are drawn by a rule-based renderer from Human Phenotype Ontology (HPO) terms and the
objective definitions of *Elements of Morphology* (on a 3D child built from MakeHuman's CC0 head, or
in 2.5D), or by a small diffusion model trained only on the 2.5D drawings; the classifier was trained
only on the 3D children. They show how features
are defined, not how any child looks. A child with a syndrome may show few, many or none of its
features, and many features of a syndrome cannot be seen in a face at all. Do not use this app to
suggest or rule out a diagnosis.

*Limitation:* facial proportions follow published norms (Farkas 1994; Hall et al. 2007) measured
mostly in children of European ancestry. Skin tone varies (Monk scale 1-10); the rule-based renderer
does not vary facial morphology with ancestry, because no paediatric norms for other populations are
built in; the 3D child's "head shape by ancestry" uses MakeHuman's African, Asian and European
targets, which are artistic, not anthropometric norms.
"""


def with_syndrome(name: str) -> str:
    """Person-first phrase for a child with a condition.

    Args:
        name: display name of the condition, e.g. ``"Williams syndrome"``.

    Returns:
        e.g. ``"a child with Williams syndrome"``.
    """
    return f"a child with {name}"


#: Caption of the same child drawn at intensity 0.
WITHOUT_SYNDROME = "the same child without the syndrome"

#: Caption of a child drawn from the "unaffected" entry.
UNAFFECTED = "a child without a syndrome"

#: Caption suffix when the intensity is above 1.
EXAGGERATED = "features exaggerated for teaching"

#: Caption suffix when the intensity is 0 (the syndrome's features are not drawn).
NOT_DRAWN = "intensity 0: no features drawn"
