"""A steady write load on a real server: a few clients, each on its own HTTP connection, each
registering a patient, documenting an encounter for it and billing a charge for that, over and
over. Every write the server acknowledged (201) is remembered, and every other answer counted,
so that a test can hold the database to what the clients were told."""

from __future__ import annotations

import copy
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.factories import patient_body
from tests.seed_examples import request_body

PATIENTS = "/api/v1/patients"
ENCOUNTERS = "/api/v1/clinical/encounters"
CHARGES = "/api/v1/billing/charges"
PROVIDERS = "/api/v1/providers"
# What each kind of acknowledged write is read back from.
READ_BACK = {"patient": PATIENTS, "encounter": ENCOUNTERS, "charge": CHARGES}
TIMEOUT = 15.0
# A write load is one user writing, then reading every write back, as fast as it can: past the
# default per-user limit on a fast machine. Its servers raise the limit so that it never refuses
# (the limits themselves: tests/api/test_rate_limits.py).
UNLIMITED = {"HMS_RATE_LIMIT": "1000000/minute;100000/second"}


def new_provider(url: str, headers: dict[str, str], verify: str | bool = True) -> str:
    response = requests.post(
        f"{url}{PROVIDERS}",
        json={"first_name": "Load", "last_name": "Tester", "specialty": "Internal Medicine"},
        headers=headers,
        timeout=TIMEOUT,
        verify=verify,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def encounter_body(patient_id: str, provider_id: str) -> dict[str, Any]:
    body = copy.deepcopy(request_body("POST /api/v1/clinical/encounters"))
    body.update(patient_id=patient_id, provider_id=provider_id)
    return body


def charge_body(patient_id: str, encounter_id: str, provider_id: str) -> dict[str, Any]:
    body = copy.deepcopy(request_body("POST /api/v1/billing/charges"))
    body.update(patient_id=patient_id, encounter_id=encounter_id, billing_provider_id=provider_id)
    return body


@dataclass
class Outcome:
    """What the clients saw: acknowledged writes by kind, and every other answer."""

    acknowledged: dict[str, list[str]] = field(
        default_factory=lambda: {kind: [] for kind in READ_BACK}
    )
    numbers: list[str] = field(default_factory=list)
    # (status, error code) of answers that were not 201, e.g. (503, "SERVICE_UNAVAILABLE").
    refusals: Counter[tuple[int, str]] = field(default_factory=Counter)
    # Requests that got no answer at all (the server was gone, or too slow), by exception.
    unanswered: Counter[str] = field(default_factory=Counter)
    slowest_refusal: float = 0.0

    @property
    def writes(self) -> int:
        return sum(len(ids) for ids in self.acknowledged.values())


class WriteLoad:
    """`clients` threads writing until `stop()`; `outcome` is what they were told."""

    def __init__(
        self,
        url: str,
        headers: dict[str, str],
        provider_id: str,
        *,
        clients: int = 4,
        verify: str | bool = True,
        urls: list[str] | None = None,
    ) -> None:
        self.urls = urls or [url]
        self.headers = headers
        self.provider_id = provider_id
        self.verify = verify
        self.outcome = Outcome()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(clients)
        ]

    def __enter__(self) -> WriteLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> Outcome:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=2 * TIMEOUT)
        return self.outcome

    def wait_for(self, writes: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.outcome.writes < writes:
            assert time.monotonic() < deadline, f"only {self.outcome.writes} writes acknowledged"
            time.sleep(0.05)

    def _post(self, http: requests.Session, url: str, kind: str, body: Any) -> str | None:
        started = time.monotonic()
        try:
            response = http.post(
                f"{url}{READ_BACK[kind]}",
                json=body,
                headers=self.headers,
                timeout=TIMEOUT,
                verify=self.verify,
            )
        except requests.RequestException as exc:
            with self._lock:
                self.outcome.unanswered[type(exc).__name__] += 1
            time.sleep(0.05)
            return None
        if response.status_code != 201:
            code = response.json()["error"]["code"] if response.content else ""
            with self._lock:
                self.outcome.refusals[(response.status_code, code)] += 1
                self.outcome.slowest_refusal = max(
                    self.outcome.slowest_refusal, time.monotonic() - started
                )
            time.sleep(0.05)
            return None
        created = response.json()
        with self._lock:
            self.outcome.acknowledged[kind].append(str(created["id"]))
            if kind == "patient":
                self.outcome.numbers.append(str(created["patient_id"]))
        return str(created["id"])

    def _run(self, n: int) -> None:
        url = self.urls[n % len(self.urls)]
        with requests.Session() as http:
            while not self._stopping.is_set():
                patient = self._post(http, url, "patient", patient_body())
                if patient is None:
                    continue
                encounter = self._post(
                    http, url, "encounter", encounter_body(patient, self.provider_id)
                )
                if encounter is None:
                    continue
                self._post(http, url, "charge", charge_body(patient, encounter, self.provider_id))


def missing_writes(
    url: str, headers: dict[str, str], outcome: Outcome, verify: str | bool = True
) -> list[str]:
    """The acknowledged writes the server cannot find now."""
    missing = []
    with requests.Session() as http:
        for kind, ids in outcome.acknowledged.items():
            for record_id in ids:
                response = http.get(
                    f"{url}{READ_BACK[kind]}/{record_id}",
                    headers=headers,
                    timeout=TIMEOUT,
                    verify=verify,
                )
                if response.status_code != 200 or response.json()["id"] != record_id:
                    missing.append(f"{kind} {record_id}: {response.status_code}")
    return missing
