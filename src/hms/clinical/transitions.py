"""How an encounter's status moves when it is changed.

in_progress (a draft) is edited freely until it is completed (signed). A completed note is never
edited in place: any change to it is an amendment (status `amended`), and its earlier versions stay
readable in the history. `entered_in_error` voids a note written for the wrong patient or by
mistake; it needs a reason and is final.
"""

from __future__ import annotations

from hms.errors import Conflict, ValidationFailed


def next_status(
    current: str, requested: str | None, changed: list[str], reason: str | None
) -> tuple[str, str | None]:
    """The new status and the kind of change, or None as the change when nothing changes."""
    if current == "entered_in_error":
        raise Conflict("This encounter was entered in error; it can no longer be changed")
    if requested == "entered_in_error":
        if not reason:
            raise ValidationFailed(
                "amendment_reason", "Say why the encounter is marked as entered in error"
            )
        return "entered_in_error", "entered_in_error"
    if current == "in_progress":
        if requested == "amended":
            raise Conflict("Only a completed encounter can be amended; complete it instead")
        if requested == "completed":
            return "completed", "completed"
        return "in_progress", "updated" if changed else None
    if requested == "in_progress":
        raise Conflict("A completed encounter cannot return to in_progress; amend it instead")
    if not changed:
        return current, None
    return "amended", "amended"
