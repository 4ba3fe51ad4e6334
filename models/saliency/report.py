"""What the app reports beside a saliency map: the classifier's top classes and the full region breakdown.

Research and education only; not for diagnosis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from torch import nn

from models.saliency.regions import RegionShare

#: Name of the region that holds everything outside the named regions (background, neck, ...).
REMAINDER = "elsewhere"


def top_classes(model: nn.Module, crop: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
    """The classifier's `k` most probable classes for one aligned crop.

    Args:
        model: a loaded `models.classifier.model.Classifier`.
        crop: (S, S, 3) uint8 aligned crop (`models.alignment`; `Explanation.crop`).
        k: how many classes; at most the number of classes.

    Returns:
        ``(class name, softmax probability in [0, 1])`` pairs, most probable first.
    """
    from models.classifier.evaluate import predict

    probs = predict(model, np.array(crop[None]))[0]  # (K,) float64; a copy, since torch wants a writable array
    classes = list(model.config.classes)
    order = np.argsort(-probs, kind="stable")[:k]
    return [(classes[i], float(probs[i])) for i in order]


def with_remainder(regions: Sequence[RegionShare]) -> list[RegionShare]:
    """The region breakdown plus one `REMAINDER` row, so that the shares and the areas sum to 1.

    Args:
        regions: `Explanation.regions` (non-overlapping regions; the render masks overlap on a few
            pixels at most, so the remainder is clipped at 0).

    Returns:
        ``regions`` in their order, then the remainder (share 0 when the map has no positive attribution).
    """
    area = max(0.0, 1.0 - sum(r.area for r in regions))
    share = max(0.0, 1.0 - sum(r.share for r in regions)) if any(r.share > 0 for r in regions) else 0.0
    return [*regions, RegionShare(REMAINDER, share, area, share / area if area > 0 else 0.0)]
