"""Precision and recall of contacts.extract over the labelled corpora.

Two subsets, scored and reported separately, per kind (email, phone, fax, social, person):

* synthetic — ``tests/contacts/corpus/<name>.html`` + ``<name>.json``: pages written for the
  tests (context and hand-written labels; see the corpus README);
* real — ``tests/contacts/corpus/real/<name>.html.gz`` + ``<name>.json``: pages captured from the
  public web by others, labelled blind (see ``real/README.md``; provenance in ``real/MANIFEST.md``).
  Each real page is scored twice: with the business's country as ``default_region`` (where the
  page states it) and with the country unknown (``default_region=None``).

Faxes are their own kind: a fax number is never a phone. The extractor's faxes are read from
``result.faxes`` (items with ``e164``) or from phones whose ``kind`` is ``"fax"``.
"""
from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from contacts.extract import extract_contacts

CORPUS = Path(__file__).parent / "corpus"
REAL = CORPUS / "real"
KINDS = ("email", "phone", "fax", "social", "person")
REAL_KINDS = ("email", "phone", "fax", "social")  # people are not labelled on real pages
THRESHOLD = 0.95
# names come from markup heuristics (team cards): reported, with a lower bar
THRESHOLDS = {"email": THRESHOLD, "phone": THRESHOLD, "fax": THRESHOLD, "social": THRESHOLD, "person": 0.9}
REAL_THRESHOLD = 0.97


def _pages():
    return sorted(CORPUS.glob("*.json"))


def _real_pages():
    return sorted(REAL.glob("*.json"))


def _html(meta_path: Path) -> bytes:
    plain = meta_path.with_suffix(".html")
    if plain.exists():
        return plain.read_bytes()
    return gzip.decompress(meta_path.with_suffix(".html.gz").read_bytes())


def _found(result) -> dict[str, set[str]]:
    phones = [p for p in result.phones if getattr(p, "kind", "phone") != "fax"]
    faxes = {p.e164 for p in result.phones if getattr(p, "kind", "phone") == "fax"}
    faxes |= {f.e164 for f in getattr(result, "faxes", ())}
    return {
        "email": {e.normalized for e in result.emails},
        "phone": {p.e164 for p in phones},
        "fax": faxes,
        "social": {s.url for s in result.socials},
        "person": {p.name for p in result.people},
    }


def _expected(meta) -> dict[str, set[str]]:
    return {
        "email": set(meta["emails"]), "phone": set(meta["phones"]), "fax": set(meta.get("faxes", [])),
        "social": set(meta["socials"]), "person": set(meta.get("people", [])),
    }


def _score_pages(paths, kinds, *, region_known: bool = True):
    """Totals per kind and the per-page differences, extracting every page once."""
    totals = {k: {"tp": 0, "fp": 0, "fn": 0} for k in kinds}
    misses: list[str] = []
    for meta_path in paths:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        result = extract_contacts(
            _html(meta_path),
            page_url=meta["page_url"],
            site_domain=meta.get("site_domain"),
            default_region=meta.get("default_region") if region_known else None,
        )
        found, expected = _found(result), _expected(meta)
        for kind in kinds:
            tp = found[kind] & expected[kind]
            fp = found[kind] - expected[kind]
            fn = expected[kind] - found[kind]
            totals[kind]["tp"] += len(tp)
            totals[kind]["fp"] += len(fp)
            totals[kind]["fn"] += len(fn)
            if fp:
                misses.append(f"{meta_path.stem}: unexpected {kind} {sorted(fp)}")
            if fn:
                misses.append(f"{meta_path.stem}: missed {kind} {sorted(fn)}")
    return totals, misses


def _run_corpus():
    return _score_pages(_pages(), KINDS)


def _scores(counts):
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def _report(title, totals, kinds, threshold_of):
    lines, failing = [title], []
    for kind in kinds:
        precision, recall = _scores(totals[kind])
        c = totals[kind]
        lines.append(
            f"  {kind:6s} precision={precision:.3f} recall={recall:.3f} (tp={c['tp']} fp={c['fp']} fn={c['fn']})"
        )
        if precision < threshold_of(kind) or recall < threshold_of(kind):
            failing.append(kind)
    return "\n".join(lines), failing


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
    report, failing = _report(f"synthetic corpus ({len(_pages())} pages)", totals, KINDS, THRESHOLDS.get)
    with capsys.disabled():
        print("\n" + report)
    assert totals["email"]["tp"] > 50 and totals["phone"]["tp"] > 50 and totals["social"]["tp"] > 20
    assert totals["person"]["tp"] >= 15
    assert not failing, f"below threshold: {failing}\n{report}\n" + "\n".join(misses)


def test_corpus_has_no_per_page_misses():
    """Stricter than the thresholds: every labelled page is extracted exactly."""
    _, misses = _run_corpus()
    if misses:
        pytest.fail("per-page differences:\n" + "\n".join(misses))


# --- the real subset -------------------------------------------------------------------------

REAL_KEYS = {"page_url", "default_region", "country", "language", "page_kind",
             "emails", "phones", "faxes", "socials", "source"}


def _real_metas():
    return [(p, json.loads(p.read_text(encoding="utf-8"))) for p in _real_pages()]


def test_real_corpus_is_large_diverse_and_traceable():
    metas = _real_metas()
    assert len(metas) >= 250
    for path, meta in metas:
        assert REAL_KEYS <= meta.keys(), path.stem
        assert path.with_suffix(".html.gz").exists(), path.stem
        source = meta["source"]
        assert source["repository"] and source["path"] and len(source["commit"]) == 40, path.stem
        for phone in meta["phones"] + meta["faxes"]:
            assert phone.startswith("+") and phone[1:].isdigit(), (path.stem, phone)
        assert all(e == e.strip().lower() and "@" in e for e in meta["emails"]), path.stem
        assert meta["country"] is None or meta["default_region"] == meta["country"], path.stem
    languages = Counter(meta["language"] for _, meta in metas)
    countries = Counter(meta["country"] for _, meta in metas if meta["country"])
    assert len(languages) >= 8, languages
    assert len(countries) >= 15, countries
    # negatives: pages with no contact of the business at all
    assert sum(not (m["emails"] or m["phones"] or m["faxes"] or m["socials"]) for _, m in metas) >= 25
    kinds = {meta["page_kind"] for _, meta in metas}
    assert {"homepage", "contact"} <= kinds and len(kinds) >= 6, kinds
    totals = Counter()
    for _, meta in metas:
        for kind in ("emails", "phones", "faxes", "socials"):
            totals[kind] += len(meta[kind])
    assert totals["emails"] >= 200 and totals["phones"] >= 300 and totals["faxes"] >= 100 and totals["socials"] >= 200


@pytest.fixture(scope="module")
def real_scores():
    paths = _real_pages()
    return {
        "country known": _score_pages(paths, REAL_KINDS, region_known=True),
        "country unknown": _score_pages(paths, REAL_KINDS, region_known=False),
    }


def test_real_corpus_report(real_scores, capsys):
    """P/R per kind on the real pages, reported apart from the synthetic ones (no threshold here)."""
    n = len(_real_pages())
    reports = []
    for variant, (totals, _) in real_scores.items():
        report, _ = _report(f"real corpus, {variant} ({n} pages)", totals, REAL_KINDS, lambda k: REAL_THRESHOLD)
        reports.append(report)
        # every labelled contact is counted once as found or missed
        for kind in REAL_KINDS:
            assert totals[kind]["tp"] + totals[kind]["fn"] > 0, (variant, kind)
    with capsys.disabled():
        print("\n" + "\n".join(reports))
    known, unknown = real_scores["country known"][0], real_scores["country unknown"][0]
    for kind in ("email", "social"):  # only phones and faxes depend on the region
        assert known[kind] == unknown[kind], kind


def test_real_corpus_precision_and_recall(real_scores):
    failures = []
    for variant, (totals, misses) in real_scores.items():
        report, failing = _report(f"real corpus, {variant}", totals, REAL_KINDS, lambda k: REAL_THRESHOLD)
        if failing:
            failures.append(f"below {REAL_THRESHOLD}: {failing}\n{report}\n" + "\n".join(misses))
    assert not failures, "\n\n".join(failures)
