"""Building REST responses: JSON bodies, `_links`, list envelopes, ETags and If-Match."""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from hms.errors import PreconditionFailed

API = "/api/v1"


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def href(request: Request, path: str) -> dict[str, str]:
    return {"href": f"{base_url(request)}{API}{path}"}


def json_response(
    body: BaseModel | dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    content = (
        body.model_dump_json(by_alias=True).encode()
        if isinstance(body, BaseModel)
        else orjson.dumps(body)
    )
    return Response(content, status_code=status, media_type="application/json", headers=headers)


def list_links(request: Request, *, total: int, limit: int, offset: int) -> dict[str, Any]:
    url = request.url

    def at(new_offset: int) -> dict[str, str]:
        return {"href": str(url.include_query_params(limit=limit, offset=new_offset))}

    return {
        "self": {"href": str(url)},
        "next": at(offset + limit) if offset + limit < total else None,
        "prev": at(max(offset - limit, 0)) if offset > 0 else None,
    }


def list_body(
    request: Request, plural: str, items: list[Any], *, total: int, limit: int, offset: int
) -> dict[str, Any]:
    return {
        plural: items,
        "total": total,
        "limit": limit,
        "offset": offset,
        "_links": list_links(request, total=total, limit=limit, offset=offset),
    }


def etag(version: int) -> str:
    return f'"{version}"'


_ETAG = re.compile(r'^(?:W/)?"(\d+)"$')


def expected_version(request: Request) -> int | None:
    """The version an If-Match header asks for; None when absent or '*'."""
    value = request.headers.get("if-match")
    if value is None or value.strip() == "*":
        return None
    versions = [m.group(1) for part in value.split(",") if (m := _ETAG.match(part.strip()))]
    if not versions:
        raise PreconditionFailed('If-Match must be an ETag this server issued, e.g. "3"')
    # Several ETags may be listed; pass the first and let the service compare.
    return int(versions[0])
