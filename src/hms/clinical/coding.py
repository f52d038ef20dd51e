"""ICD-10-CM codes, checked against the code set of the `simple-icd-10-cm` package.

The package parses its copy of the CMS tabular list (about 100,000 codes) when first imported,
which takes a few seconds; importing it here means a server pays that once, before it listens,
rather than on the first encounter a clinician saves.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

import simple_icd_10_cm as icd10cm
from pydantic import AfterValidator, Field

CODE_SET = "ICD-10-CM"


# The package walks part of its code tree on some of these calls (milliseconds each); a note
# carries a handful of common codes, so the answers are kept.
@lru_cache(maxsize=8192)
def normalize(code: str) -> str | None:
    """The code in its dotted form (`G441` -> `G44.1`), or None when it is not a diagnosis code.

    Chapters and blocks (`A00-A09`) are headings, not codes a diagnosis can carry.
    """
    candidate = code.strip().upper()
    if not candidate or not icd10cm.is_valid_item(candidate):
        return None
    if not icd10cm.is_category_or_subcategory(candidate):
        return None
    return str(icd10cm.add_dot(candidate))


@lru_cache(maxsize=8192)
def describe(code: str | None) -> str | None:
    """The code set's own description of a stored code."""
    if not code or not icd10cm.is_valid_item(code):
        return None
    return str(icd10cm.get_description(code))


def _checked(code: str) -> str:
    canonical = normalize(code)
    if canonical is None:
        raise ValueError(f"'{code}' is not an {CODE_SET} code")
    return canonical


ICD10Code = Annotated[str, Field(min_length=3, max_length=10), AfterValidator(_checked)]


def titled(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Entries of a note with the code set's title of their code beside the clinician's text."""
    return [item | {"code_description": describe(item.get(key))} for item in items]
