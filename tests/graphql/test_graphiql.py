"""GET /api/v1/graphql serves GraphiQL with every script and style from this server."""

from __future__ import annotations

import re
from importlib.resources import files

import httpx

from hms.api.middleware import PAGE_CSP
from tests.graphql.support import GRAPHQL

HTML = {"Accept": "text/html"}


async def test_the_page_loads_only_local_assets(client: httpx.AsyncClient) -> None:
    page = await client.get(GRAPHQL, headers=HTML)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["Content-Security-Policy"] == PAGE_CSP
    assert "default-src 'self'" in PAGE_CSP
    assert "http://" not in page.text and "https://" not in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) == 4
    for asset in assets:
        assert asset.startswith(f"{GRAPHQL}/static/"), asset
        response = await client.get(asset)
        assert response.status_code == 200, asset
        kind = "javascript" if asset.endswith(".js") else "css"
        assert kind in response.headers["content-type"]


def test_the_vendored_builds_ship_with_their_licences() -> None:
    static = files("hms.api.graphql") / "static"
    for name in ("LICENSE.graphiql", "LICENSE.react", "LICENSE.react-dom"):
        assert "MIT License" in (static / name).read_text()
    assert "graphiql 3.9.0" in (static / "README.md").read_text()


async def test_operations_are_not_accepted_over_get(client: httpx.AsyncClient) -> None:
    # A GET is a page load, never an operation: no mutations (or reads) from a crafted link.
    response = await client.get(GRAPHQL, params={"query": "{ __typename }"})
    assert response.status_code == 400
    assert "not allowed" in response.text
