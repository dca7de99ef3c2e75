"""The theory pages in docs/theory are exactly what the catalog generates (they cannot drift)."""

from pathlib import Path

import pytest

from proofs.docs import pages

DOCS = Path(__file__).resolve().parents[1] / "docs" / "theory"


@pytest.mark.parametrize("name, text", sorted(pages().items()))
def test_committed_theory_page_matches_the_catalog(name: str, text: str) -> None:
    path = DOCS / name
    assert path.exists(), f"{path} missing: run `python -m proofs.docs`"
    assert path.read_text() == text, f"{path} is stale: run `python -m proofs.docs`"


def test_no_orphan_pages() -> None:
    assert {p.name for p in DOCS.glob("*.md")} == set(pages())
