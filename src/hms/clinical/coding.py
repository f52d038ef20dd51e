"""ICD-10-CM codes, checked against the CMS code set that the `simple-icd-10-cm` package ships.

The package is the maintained source of the code set, but importing it builds a tree of every
code with all its notes (about 180 MB and five seconds per process). The server reads the
package's data files into a compact index of its own instead (`hms.clinical.icd10cm`: about
15 MB, under a second), once per process, and never imports the package; the index
answers as the package does, which a test checks code by code.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

from hms.clinical import icd10cm

CODE_SET = "ICD-10-CM"


def load() -> None:
    """Read the code set now, so that the first note checked does not wait for it."""
    icd10cm.code_set()


def normalize(code: str) -> str | None:
    """The code in its dotted form (`G441` -> `G44.1`), or None when it is not a diagnosis code.

    Chapters and blocks (`A00-A09`) are headings, not codes a diagnosis can carry.
    """
    candidate = code.strip().upper()
    if not candidate:
        return None
    codes = icd10cm.code_set()
    name = codes.find(candidate)
    if name is None or codes.is_heading(name):
        return None
    return name


def describe(code: str | None) -> str | None:
    """The code set's own description of a stored code."""
    if not code:
        return None
    codes = icd10cm.code_set()
    name = codes.find(code)
    return None if name is None else codes.title(name)


def _checked(code: str) -> str:
    canonical = normalize(code)
    if canonical is None:
        raise ValueError(f"'{code}' is not an {CODE_SET} code")
    return canonical


ICD10Code = Annotated[str, Field(min_length=3, max_length=10), AfterValidator(_checked)]


def titled(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Entries of a note with the code set's title of their code beside the clinician's text."""
    return [item | {"code_description": describe(item.get(key))} for item in items]
