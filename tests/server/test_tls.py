"""`hms serve` ends TLS itself: a real server with a self-signed certificate, reached over
HTTPS, sends HSTS and the other security headers, and answers CORS only for its origins."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.server.support import Server, hms_command, server_env

PORTAL = "https://portal.example.org"

pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1"
    subprocess.run(
        [
            *command.split(),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = self_signed(folder)
    env = server_env(folder / "data") | {"HMS_CORS_ORIGINS": f'["{PORTAL}"]'}
    server = Server(
        env,
        folder,
        args=("--ssl-certfile", str(cert), "--ssl-keyfile", str(key)),
        scheme="https",
        verify=str(cert),
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_https_answers_with_hsts_and_the_security_headers(https_server: Server) -> None:
    response = requests.get(
        f"{https_server.url}/health/live", verify=https_server.verify, timeout=10
    )
    assert response.status_code == 200
    assert response.url.startswith("https://")
    headers = response.headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_the_certificate_is_the_one_given(https_server: Server) -> None:
    served = ssl.get_server_certificate(("127.0.0.1", https_server.port))
    assert ssl.PEM_cert_to_DER_cert(served) == ssl.PEM_cert_to_DER_cert(
        Path(str(https_server.verify)).read_text()
    )
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{https_server.url}/health/live", verify=True, timeout=10)


def test_cors_over_https_only_for_the_configured_origin(https_server: Server) -> None:
    def preflight(origin: str) -> requests.Response:
        return requests.options(
            f"{https_server.url}/api/v1/patients",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
            verify=https_server.verify,
            timeout=10,
        )

    allowed = preflight(PORTAL)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == PORTAL
    refused = preflight("https://evil.example.com")
    assert refused.status_code == 400
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_plain_http_keeps_hsts_off(tmp_path: Path) -> None:
    server = Server(server_env(tmp_path / "data"), tmp_path)
    try:
        server.wait_ready()
        response = requests.get(f"{server.url}/health/live", timeout=10)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" not in response.headers
    finally:
        server.stop()


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    cert, _ = self_signed(tmp_path)
    result = subprocess.run(
        [*hms_command(), "serve", "--ssl-certfile", str(cert)],
        env=server_env(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "--ssl-keyfile" in result.stderr
