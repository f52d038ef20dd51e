"""SIGTERM on a real `hms serve`: new connections are refused, requests in flight still get
their whole answer, the process exits 0; and its log is JSON lines with request ids and route
templates, without a trace of the patients it served.

One server per backend plays the scenario once; each test checks one part of the outcome."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.factories import patient_body
from tests.server.conftest import SEED_PASSWORD, SEED_USERNAME
from tests.server.support import Server, create_user, server_env

NAME = {"first_name": "Zebulon", "last_name": "Quixotewick"}
EMAIL = "zebulon.quixotewick@example.org"
UPLOADED = {"first_name": "Ottoline", "last_name": "Marchbanks"}


@dataclass
class Outcome:
    patient: dict[str, Any]
    search_request_id: str
    upload_request_id: str
    upload_status_line: str = ""
    upload_headers: dict[str, str] = field(default_factory=dict)
    upload_body: bytes = b""
    refused_after_sigterm: bool = False
    concurrent: list[requests.Response | Exception] = field(default_factory=list)
    exit_code: int | None = None
    log: str = ""


def _start_upload(
    server: Server, headers: dict[str, str], request_id: str
) -> tuple[socket.socket, bytes]:
    """A POST whose body is held back until the server asks for it (`Expect: 100-continue`):
    once `100 Continue` arrives, the request is certainly in flight inside the app."""
    body = json.dumps(patient_body(**UPLOADED)).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    head = [
        "POST /api/v1/patients HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        f"Authorization: {headers['Authorization']}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Expect: 100-continue",
        f"X-Request-ID: {request_id}",
        "Connection: close",
    ]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    interim = b""
    while b"\r\n\r\n" not in interim:
        chunk = sock.recv(1024)
        assert chunk, f"the server closed the connection: {interim!r}"
        interim += chunk
    assert interim.startswith(b"HTTP/1.1 100"), interim
    return sock, body


def _finish_upload(sock: socket.socket, body: bytes, outcome: Outcome) -> None:
    sock.sendall(body)
    raw = b""
    while chunk := sock.recv(65536):
        raw += chunk
    sock.close()
    head, _, answer = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    outcome.upload_status_line = status_line
    outcome.upload_headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines)}
    outcome.upload_body = answer


def _refuses_connections(port: int, within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        time.sleep(0.05)
    return False


def _concurrent_requests(
    server: Server, headers: dict[str, str], patient: dict[str, Any]
) -> tuple[list[threading.Thread], list[requests.Response | Exception]]:
    results: list[requests.Response | Exception] = []
    calls = [
        ("GET", "/api/v1/patients/search?query=Quixotewick", None),
        ("GET", f"/api/v1/patients/{patient['patient_id']}", None),
        ("GET", "/api/v1/patients", None),
        ("POST", "/api/v1/patients", patient_body()),
    ] * 2
    start = threading.Barrier(len(calls) + 1)

    def call(method: str, path: str, body: dict[str, Any] | None) -> None:
        start.wait()
        try:
            results.append(
                requests.request(
                    method, f"{server.url}{path}", json=body, headers=headers, timeout=30
                )
            )
        except requests.RequestException as exc:
            results.append(exc)

    threads = [threading.Thread(target=call, args=c) for c in calls]
    for thread in threads:
        thread.start()
    start.wait()
    return threads, results


@pytest.fixture(scope="module")
def outcome(
    module_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Outcome]:
    folder = tmp_path_factory.mktemp("shutdown")
    env = server_env(folder / "data", module_database)
    create_user(env, SEED_USERNAME, SEED_PASSWORD, "doctor")
    server = Server(env, folder)
    try:
        server.wait_ready()
        headers = server.headers(SEED_USERNAME, SEED_PASSWORD)
        created = requests.post(
            f"{server.url}/api/v1/patients",
            json=patient_body(**NAME, email=EMAIL),
            headers=headers,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        result = Outcome(
            patient=created.json(),
            search_request_id=f"search-{uuid.uuid4().hex}",
            upload_request_id=f"upload-{uuid.uuid4().hex}",
        )
        found = requests.get(
            f"{server.url}/api/v1/patients/search",
            params={"query": NAME["last_name"]},
            headers={**headers, "X-Request-ID": result.search_request_id},
            timeout=10,
        )
        assert [p["id"] for p in found.json()["patients"]] == [result.patient["id"]]
        read = requests.get(
            f"{server.url}/api/v1/patients/{result.patient['patient_id']}",
            headers=headers,
            timeout=10,
        )
        assert read.status_code == 200, read.text

        upload, held_back = _start_upload(server, headers, result.upload_request_id)
        threads, result.concurrent = _concurrent_requests(server, headers, result.patient)
        server.process.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join(timeout=30)
        result.refused_after_sigterm = _refuses_connections(server.port)
        _finish_upload(upload, held_back, result)
        result.exit_code = server.process.wait(timeout=15)
        result.log = server.log_text()
        yield result
    finally:
        server.stop()


def test_sigterm_stops_accepting_connections_and_exits_zero(outcome: Outcome) -> None:
    assert outcome.refused_after_sigterm
    assert outcome.exit_code == 0


def test_a_request_in_flight_at_sigterm_gets_its_whole_answer(outcome: Outcome) -> None:
    assert outcome.upload_status_line.startswith("HTTP/1.1 201"), outcome.upload_status_line
    assert int(outcome.upload_headers["content-length"]) == len(outcome.upload_body)
    created = json.loads(outcome.upload_body)
    assert created["first_name"] == UPLOADED["first_name"]
    assert outcome.upload_headers["x-request-id"] == outcome.upload_request_id


def test_concurrent_requests_at_sigterm_are_answered_whole_or_refused(outcome: Outcome) -> None:
    assert len(outcome.concurrent) == 8
    for result in outcome.concurrent:
        if isinstance(result, Exception):
            # Refused, or closed before any answer began; never an answer cut short.
            assert isinstance(result, requests.ConnectionError), repr(result)
            continue
        assert result.status_code in (200, 201), result.text
        body = result.json()
        assert body.get("id") or "patients" in body


def test_log_lines_are_json_with_request_ids_and_route_templates(outcome: Outcome) -> None:
    entries = [json.loads(line) for line in outcome.log.splitlines()]
    assert entries and all(isinstance(e, dict) and e["ts"] and e["level"] for e in entries)
    access = [e for e in entries if e.get("logger") == "hms.access"]
    assert access and all(e["request_id"] and e["route"] for e in access)
    by_id = {e["request_id"]: e for e in access}
    search = by_id[outcome.search_request_id]
    assert search["route"] == "/api/v1/patients/search"
    assert (search["method"], search["status"]) == ("GET", 200)
    assert search["user_id"]
    upload = by_id[outcome.upload_request_id]
    assert (upload["route"], upload["status"]) == ("/api/v1/patients", 201)
    assert any(e["route"] == "/api/v1/patients/{patient_id}" for e in access)


def test_log_holds_no_patient_data_and_no_query_string(outcome: Outcome) -> None:
    patient = outcome.patient
    for secret in (
        NAME["first_name"],
        NAME["last_name"],
        UPLOADED["last_name"],
        EMAIL,
        "query=",
        patient["patient_id"],
        patient["id"],
    ):
        assert secret not in outcome.log, secret
