"""The README is a short door whose figures come from the committed result files, and whose links resolve."""

from __future__ import annotations

import re
from pathlib import Path

from benchmarks import figures

ROOT = Path(__file__).resolve().parents[1]


def test_readme_figures_are_the_committed_results():
    assert figures.main(["--check"]) == 0, "run python -m benchmarks.figures --write"
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index(figures.START) : text.index(figures.END)]
    assert block.count("\n| ") >= 7  # every headline row is there, not an empty block


def test_every_figure_row_links_to_a_file_that_exists():
    for _, _, link in figures.rows():
        (target,) = re.findall(r"\]\(([^)]+)\)", link)
        assert (ROOT / target).is_file(), target


def test_readme_is_short_and_its_links_and_the_docs_links_resolve():
    readme = ROOT / "README.md"
    assert len(readme.read_text(encoding="utf-8").splitlines()) <= 200
    for page in [readme, *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name} links to a missing {target}"


def test_the_classifier_cards_test_table_is_its_committed_evaluation():
    import json

    card = (ROOT / "assets" / "classifier" / "README.md").read_text(encoding="utf-8")
    metrics = json.loads((ROOT / "assets" / "classifier" / "eval_test_metrics.json").read_text(encoding="utf-8"))
    groups = {"all": metrics["overall"]}
    for key in ("by_skin_tone", "by_age_band", "by_sex", "by_ancestry"):
        groups.update(metrics.get(key, {}))
    pattern = r"^\| ([\w -]+) \| (\d+) \| ([\d.]+) \(([\d.]+)-([\d.]+)\) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$"
    rows = re.findall(pattern, card, flags=re.M)
    assert len(rows) >= 10
    for name, n, top1, lo, hi, per_syndrome, top5, ece in rows:
        g = groups[name.strip()]
        assert int(n) == g["n"]
        assert float(top1) == round(g["top1"], 3) and float(per_syndrome) == round(g["per_syndrome_top1"], 3)
        assert (float(lo), float(hi)) == (round(g["top1_ci"][0], 2), round(g["top1_ci"][1], 2))
        assert float(top5) == round(g["top5"], 3) and float(ece) == round(g["ece"], 3)
