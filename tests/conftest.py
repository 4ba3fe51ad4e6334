"""Fixtures shared by the saliency tests: a tiny random-weight classifier run on one CPU thread."""

from __future__ import annotations

import pytest

#: Classes of the tiny test classifier, "unaffected" first as in the catalogue.
TINY_CLASSES = ["unaffected", "down", "williams_beuren"]


@pytest.fixture(scope="module")
def one_thread():
    """Run torch on one thread for the module: on 2 shared cores, 2 threads are many times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def model(one_thread):
    """An untrained resnet18 `Classifier` over `TINY_CLASSES`, seeded, in eval mode."""
    import torch

    from models.classifier.config import ClassifierConfig
    from models.classifier.model import Classifier

    torch.manual_seed(0)
    return Classifier(ClassifierConfig(backbone="resnet18", classes=TINY_CLASSES)).eval()
