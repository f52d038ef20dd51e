"""What every HTTP client meets before any resource: request ids, security headers, health
checks, the error envelope for unknown routes and methods, CORS, and the self-contained docs."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from hms.app import create_app
from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.conftest import test_settings as build_settings
from tests.factories import signed_in

PORTAL = "https://portal.example.org"


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details", "timestamp", "request_id"}
    assert error["code"] == code
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(error["timestamp"]))
    return dict(error)


async def test_request_id_echoed_or_generated(client: httpx.AsyncClient) -> None:
    sane = await client.get("/api/v1/patients", headers={"X-Request-ID": "lb-7f3a:42.1"})
    assert sane.headers["X-Request-ID"] == "lb-7f3a:42.1"
    assert_envelope(sane, 401, "UNAUTHORIZED")

    generated = await client.get("/api/v1/patients")
    assert re.fullmatch(r"req_[0-9a-f]{32}", generated.headers["X-Request-ID"])
    assert_envelope(generated, 401, "UNAUTHORIZED")
    other = await client.get("/api/v1/patients")
    assert other.headers["X-Request-ID"] != generated.headers["X-Request-ID"]

    # Ids that could forge log lines or bloat them are replaced, not echoed.
    for insane in ("has space", "x" * 129, "a\tb", "<script>", ""):
        response = await client.get("/api/v1/patients", headers={"X-Request-ID": insane})
        assert response.headers["X-Request-ID"].startswith("req_"), insane
        assert_envelope(response, 401, "UNAUTHORIZED")

    ok = await client.get("/health/live", headers={"X-Request-ID": "probe-1"})
    assert ok.headers["X-Request-ID"] == "probe-1"


async def test_security_headers(client: httpx.AsyncClient, runtime: Runtime) -> None:
    headers = await signed_in(client, runtime, role=Role.NURSE)
    for response in (
        await client.get("/api/v1/patients", headers=headers),
        await client.get("/api/v1/patients"),
        await client.get("/health/ready"),
        await client.get("/no/such/route"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"  # patient data stays out of caches
        assert "server" not in response.headers or "uvicorn" not in response.headers["server"]


async def test_health_needs_no_sign_in(client: httpx.AsyncClient) -> None:
    live = await client.get("/health/live")
    assert live.status_code == 200 and live.json()["status"] == "ok"
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready" and ready.json()["database"] == "ok"


async def test_unknown_route_and_wrong_method_use_the_envelope(client: httpx.AsyncClient) -> None:
    for path in ("/nothing-here", "/api/v1/nothing-here", "/api/v2/patients"):
        assert_envelope(await client.get(path), 404, "NOT_FOUND")
    wrong = await client.delete("/api/v1/patients")
    error = assert_envelope(wrong, 405, "METHOD_NOT_ALLOWED")
    assert error["message"]
    assert set(wrong.headers["Allow"].split(", ")) == {"GET", "POST"}
    one = await client.patch("/api/v1/patients/P20240001")
    assert set(one.headers["Allow"].split(", ")) == {"DELETE", "GET", "PUT"}
    assert_envelope(await client.put("/auth/token", json={}), 405, "METHOD_NOT_ALLOWED")
    malformed = await client.post(
        "/auth/token", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_envelope(malformed, 400, "BAD_REQUEST")


@asynccontextmanager
async def app_with_cors(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = build_settings(database_url, tmp_path / "cors", cors_origins=[PORTAL])
    runtime = Runtime.build(settings)
    transport = httpx.ASGITransport(app=create_app(settings, runtime), raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        await runtime.close()


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
    }


async def test_cors_preflight_only_for_configured_origins(
    database_url: str, tmp_path: Path
) -> None:
    async with app_with_cors(database_url, tmp_path) as client:
        allowed = await client.options("/api/v1/patients", headers=preflight(PORTAL))
        assert allowed.status_code == 200
        assert allowed.headers["Access-Control-Allow-Origin"] == PORTAL
        assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
        assert "idempotency-key" in allowed.headers["Access-Control-Allow-Headers"].lower()
        assert "Access-Control-Allow-Credentials" not in allowed.headers

        for stranger in ("https://evil.example.com", "http://portal.example.org"):
            refused = await client.options("/api/v1/patients", headers=preflight(stranger))
            assert refused.status_code >= 400, stranger
            assert "Access-Control-Allow-Origin" not in refused.headers

        actual = await client.get("/api/v1/patients", headers={"Origin": PORTAL})
        assert actual.headers["Access-Control-Allow-Origin"] == PORTAL
        exposed = actual.headers["Access-Control-Expose-Headers"].lower()
        assert {"x-request-id", "x-ratelimit-remaining", "etag"} <= {
            h.strip() for h in exposed.split(",")
        }
        foreign = await client.get("/api/v1/patients", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in foreign.headers


async def test_no_cors_unless_configured(client: httpx.AsyncClient) -> None:
    response = await client.options("/api/v1/patients", headers=preflight(PORTAL))
    assert "Access-Control-Allow-Origin" not in response.headers
    plain = await client.get("/api/v1/patients", headers={"Origin": PORTAL})
    assert "Access-Control-Allow-Origin" not in plain.headers


async def test_docs_page_is_self_contained(client: httpx.AsyncClient) -> None:
    page = await client.get("/api/v1/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    # Hospital networks are often air-gapped: nothing may come from another host.
    foreign = [
        url
        for url in re.findall(r"""https?://[^\s"'<>)]+""", html)
        if httpx.URL(url).host not in ("testserver", "")
    ]
    assert foreign == []
    assets = re.findall(r"""(?:src|href)=["'](/api/v1/docs/assets/[^"']+)["']""", html)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        response = await client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 100, asset
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "http" not in csp
    assert "/api/v1/openapi.json" in html


async def test_openapi_lists_the_seed_paths(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    for path in ("/api/v1/patients", "/api/v1/patients/{patient_id}", "/api/v1/patients/search"):
        assert path in document["paths"], path
    assert {"get", "put", "delete"} <= set(document["paths"]["/api/v1/patients/{patient_id}"])
