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


def test_writing_the_pages_replaces_each_one_whole(tmp_path, monkeypatch) -> None:
    # a failure between writing and replacing (a kill) leaves the old page, never a half-written one
    import os

    from proofs import docs

    old = tmp_path / "index.md"
    old.write_text("old page\n")

    def killed(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(docs.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        docs.write(tmp_path)
    assert old.read_text() == "old page\n" and sorted(os.listdir(tmp_path)) == ["index.md"]
    monkeypatch.undo()
    written = docs.write(tmp_path)
    assert {p.name: p.read_text() for p in written} == pages()
    assert sorted(os.listdir(tmp_path)) == sorted(pages())
