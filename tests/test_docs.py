"""The documentation states what the code does."""

from __future__ import annotations

from pathlib import Path

import pytest

from hms.auth.permissions import permission_matrix_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_permission_matrix_in_the_docs_is_the_one_enforced() -> None:
    doc = (ROOT / "docs" / "permissions.md").read_text()
    embedded = doc.split("<!-- matrix -->\n", 1)[1].split("\n<!-- /matrix -->", 1)[0]
    assert embedded == permission_matrix_markdown()


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "<!-- test-command -->" in readme
    assert "README.md" in (ROOT / ".ci" / "run").read_text()


def test_the_api_document_kept_here_is_the_published_one() -> None:
    """docs/hms-api.md is a verbatim copy; where the published document sits beside the checkout,
    they must not have drifted apart."""
    published = ROOT.parent / "shared" / "seed" / "hms-api.md"
    if not published.exists():
        pytest.skip("the published API document is not beside this checkout")
    assert (ROOT / "docs" / "hms-api.md").read_bytes() == published.read_bytes()
