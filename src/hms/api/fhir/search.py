"""Search requests and their answers: the FHIR search parameters of a request, parsed and checked
against what the resource supports, and the `searchset` Bundle with its paging links."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request

from hms.api.responses import base_url
from hms.errors import BadRequest
from hms.periods import COMPARISONS, Comparison, DateCriterion

FHIR_PATH = "/fhir/R4"
DEFAULT_COUNT, MAX_COUNT = 10, 100
MAX_OFFSET = 10_000_000
# Parameters of every search: paging, the answer's format, how the total is counted (always
# exactly, whatever is asked).
RESULT_PARAMETERS = frozenset({"_count", "_offset", "_format", "_total", "_totalMethod"})
JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json"})

_DATE = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def fhir_base(request: Request) -> str:
    """The absolute base of this FHIR server, from the request's own scheme and host (as REST
    builds its `_links`)."""
    return f"{base_url(request)}{FHIR_PATH}"


@dataclass
class Search:
    """One search's parameters. Each parameter may be given once (alternatives separated by
    commas), except date parameters, which may be repeated to give a range."""

    values: dict[str, list[str]]
    count: int
    offset: int
    ignored: list[str] = field(default_factory=list)

    @classmethod
    def parse(
        cls, pairs: list[tuple[str, str]], supported: dict[str, str], *, lenient: bool
    ) -> Search:
        values: dict[str, list[str]] = {}
        ignored: list[str] = []
        for name, value in pairs:
            if name not in supported and name not in RESULT_PARAMETERS:
                if not lenient:
                    raise BadRequest(
                        f"Unsupported search parameter '{name}'; supported: "
                        + ", ".join(sorted(supported))
                    )
                ignored.append(name)
                continue
            values.setdefault(name, []).append(value)
        for name, given in values.items():
            if len(given) > 1 and supported.get(name) != "date":
                raise BadRequest(f"Give '{name}' once; separate alternatives with commas")
        check_format(values.get("_format", [None])[0])
        count = _integer(values, "_count", DEFAULT_COUNT, MAX_COUNT)
        offset = _integer(values, "_offset", 0, MAX_OFFSET)
        return cls(values=values, count=count, offset=offset, ignored=ignored)

    def strings(self, name: str) -> list[str] | None:
        given = self.values.get(name)
        if not given:
            return None
        return [part.strip() for part in given[0].split(",") if part.strip()]

    def ids(self) -> list[str] | None:
        return self.strings("_id")

    def uuids(self, name: str) -> list[uuid.UUID] | None:
        """The ids of a parameter's values; one that is no id of ours matches nothing."""
        given = self.strings(name)
        return None if given is None else [u for v in given if (u := as_uuid(v)) is not None]

    def references(self, name: str, resource_type: str) -> list[uuid.UUID] | None:
        """`Patient/<id>`, `<id>` or an absolute URL ending in `Patient/<id>`."""
        given = self.strings(name)
        if given is None:
            return None
        out = []
        for value in given:
            parts = value.rstrip("/").split("/")
            if len(parts) >= 2 and parts[-2] != resource_type:
                continue
            if (found := as_uuid(parts[-1])) is not None:
                out.append(found)
        return out

    def tokens(self, name: str) -> list[tuple[str | None, str]] | None:
        """(system, code) pairs: `system|code`, `|code` (no system: None) or `code` (any)."""
        given = self.strings(name)
        if given is None:
            return None
        out: list[tuple[str | None, str]] = []
        for value in given:
            if "|" in value:
                system, code = value.split("|", 1)
                out.append((system or "", code))
            else:
                out.append((None, value))
        return out

    def codes(self, name: str, system: str) -> list[str] | None:
        """The codes asked for in one code system (or with no system named)."""
        tokens = self.tokens(name)
        if tokens is None:
            return None
        return [code for sys, code in tokens if sys is None or sys == system]

    def dates(self, name: str) -> tuple[DateCriterion, ...]:
        return tuple(parse_date(value, name) for value in self.values.get(name, []))


def as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def check_format(value: str | None) -> None:
    if value is not None and value.split(";")[0].strip() not in JSON_FORMATS:
        raise BadRequest("Only JSON is served: _format=json or application/fhir+json")


def _integer(values: dict[str, list[str]], name: str, default: int, high: int) -> int:
    given = values.get(name)
    if not given:
        return default
    try:
        number = int(given[0])
    except ValueError:
        raise BadRequest(f"'{name}' must be a whole number") from None
    if not 0 <= number <= high:
        raise BadRequest(f"'{name}' must be between 0 and {high}")
    return number


def parse_date(value: str, name: str) -> DateCriterion:
    """`[prefix]YYYY[-MM[-DD[Thh:mm[:ss[.fff]][zone]]]]` as the stretch of time it names."""
    comparison: Comparison = "eq"
    if value[:2] in COMPARISONS:
        comparison, value = value[:2], value[2:]  # type: ignore[assignment]
    match = _DATE.match(value)
    if not match:
        raise BadRequest(f"'{name}' must be a date such as ge2024-01-01, not '{value}'")
    try:
        year, month, day = (int(match[k] or 1) for k in ("year", "month", "day"))
        if match["time"]:
            moment = datetime.fromisoformat(f"{value[:10]}T{match['time']}")
            zone = match["zone"] or "Z"
            moment = datetime.fromisoformat(moment.isoformat() + zone.replace("Z", "+00:00"))
            start = moment.astimezone(UTC)
            step = timedelta(seconds=1) if match["time"].count(":") == 2 else timedelta(minutes=1)
            return DateCriterion(comparison, start, start + step)
        start = datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        raise BadRequest(f"'{name}' is not a real date: '{value}'") from None
    if match["day"]:
        end = start + timedelta(days=1)
    elif match["month"]:
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    else:
        end = datetime(year + 1, 1, 1, tzinfo=UTC)
    return DateCriterion(comparison, start, end)


def searchset(
    request: Request,
    search: Search,
    resources: list[dict[str, Any]],
    total: int,
    *,
    warnings: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The Bundle: `total` counts every match; `next`/`previous` keep the request's parameters
    with another `_offset`."""
    base = fhir_base(request)
    url = request.url

    def page(offset: int) -> str:
        return str(url.include_query_params(_count=search.count, _offset=offset))

    links = [{"relation": "self", "url": str(url)}]
    if search.count and search.offset + search.count < total:
        links.append({"relation": "next", "url": page(search.offset + search.count)})
    if search.offset > 0 and search.count:
        links.append({"relation": "previous", "url": page(max(search.offset - search.count, 0))})
    entries = [
        {
            "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": "match"},
        }
        for r in resources
    ]
    if warnings:
        entries.append(
            {
                "resource": {"resourceType": "OperationOutcome", "issue": warnings},
                "search": {"mode": "outcome"},
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": entries,
    }
