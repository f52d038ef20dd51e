"""The API document's own examples, read from it, so that tests send them exactly as written."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

# The project keeps its own copy of the API document, so that a checkout alone runs the tests.
SEED = Path(__file__).resolve().parents[1] / "docs" / "hms-api.md"


@cache
def seed_text() -> str:
    return SEED.read_text()


def request_body(method_and_path: str) -> dict[str, Any]:
    """The JSON body of the seed's HTTP example that starts with e.g. 'POST /api/v1/patients'."""
    text = seed_text()
    start = text.index(f"{method_and_path}\n")
    block = text[start : text.index("```", start)]
    return dict(json.loads(block[block.index("\n\n") + 2 :]))


def response_body(after: str) -> dict[str, Any]:
    """The first **Response:** JSON example after the heading or line `after`."""
    text = seed_text()
    start = text.index("**Response:**", text.index(after))
    block = re.search(r"```json\n(.*?)```", text[start:], re.S)
    assert block
    return dict(json.loads(block.group(1)))


def python_client_source() -> str:
    text = seed_text()
    start = text.index("```python", text.index("### Python Example")) + len("```python")
    return text[start : text.index("```", start)]
