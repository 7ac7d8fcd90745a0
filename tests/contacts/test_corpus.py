"""Precision and recall of contacts.extract over the labelled corpus (tests/contacts/corpus/).

Each page is ``<name>.html`` (raw bytes, any charset) with ``<name>.json`` holding the
context (page_url, site_domain, default_region) and the expected emails (normalized),
phones (E.164), socials (canonical URLs) and people (names marked up on the page).
Labels are written by hand.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from contacts.extract import extract_contacts

CORPUS = Path(__file__).parent / "corpus"
KINDS = ("email", "phone", "social", "person")
THRESHOLD = 0.95
# names come from markup heuristics (team cards): reported, with a lower bar
THRESHOLDS = {"email": THRESHOLD, "phone": THRESHOLD, "social": THRESHOLD, "person": 0.9}


def _pages():
    return sorted(CORPUS.glob("*.json"))


def _found(result) -> dict[str, set[str]]:
    return {
        "email": {e.normalized for e in result.emails},
        "phone": {p.e164 for p in result.phones},
        "social": {s.url for s in result.socials},
        "person": {p.name for p in result.people},
    }


def _run_corpus():
    totals = {k: {"tp": 0, "fp": 0, "fn": 0} for k in KINDS}
    misses: list[str] = []
    for meta_path in _pages():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        html = meta_path.with_suffix(".html").read_bytes()
        result = extract_contacts(
            html,
            page_url=meta["page_url"],
            site_domain=meta.get("site_domain"),
            default_region=meta.get("default_region"),
        )
        found = _found(result)
        expected = {
            "email": set(meta["emails"]), "phone": set(meta["phones"]),
            "social": set(meta["socials"]), "person": set(meta.get("people", [])),
        }
        for kind in KINDS:
            tp = found[kind] & expected[kind]
            fp = found[kind] - expected[kind]
            fn = expected[kind] - found[kind]
            totals[kind]["tp"] += len(tp)
            totals[kind]["fp"] += len(fp)
            totals[kind]["fn"] += len(fn)
            if fp:
                misses.append(f"{meta_path.stem}: unexpected {kind}s {sorted(fp)}")
            if fn:
                misses.append(f"{meta_path.stem}: missed {kind}s {sorted(fn)}")
    return totals, misses


def _scores(counts):
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def test_corpus_is_large_and_labelled():
    pages = _pages()
    assert len(pages) >= 60
    langs = set()
    for meta_path in pages:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        assert meta_path.with_suffix(".html").exists(), meta_path.stem
        assert {"page_url", "emails", "phones", "socials"} <= meta.keys()
        langs.add(meta_path.stem.split("_", 1)[0])
    assert {"en", "de", "fr", "es", "it", "nl"} <= langs
    # traps and empty pages are part of the corpus
    assert any(not json.loads(p.read_text())["emails"] and not json.loads(p.read_text())["phones"] for p in pages)


def test_corpus_precision_and_recall(capsys):
    totals, misses = _run_corpus()
    lines = []
    failing = []
    for kind in KINDS:
        precision, recall = _scores(totals[kind])
        c = totals[kind]
        lines.append(
            f"{kind:6s} precision={precision:.3f} recall={recall:.3f} (tp={c['tp']} fp={c['fp']} fn={c['fn']})"
        )
        if precision < THRESHOLDS[kind] or recall < THRESHOLDS[kind]:
            failing.append(kind)
    report = "\n".join(lines)
    with capsys.disabled():
        print("\ncontacts corpus (%d pages)\n%s" % (len(_pages()), report))
    assert totals["email"]["tp"] > 50 and totals["phone"]["tp"] > 50 and totals["social"]["tp"] > 20
    assert totals["person"]["tp"] >= 15
    assert not failing, f"below threshold: {failing}\n{report}\n" + "\n".join(misses)


def test_corpus_has_no_per_page_misses():
    """Stricter than the thresholds: every labelled page is extracted exactly."""
    _, misses = _run_corpus()
    if misses:
        pytest.fail("per-page differences:\n" + "\n".join(misses))
