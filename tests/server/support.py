"""The real server: `hms serve` as a separate process on a free port, driven over TCP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from tests.conftest import TEST_SECRET

_ENTRY_POINT = Path(sys.executable).with_name("hms")
STARTUP_TIMEOUT = 60.0


def hms_command() -> list[str]:
    if _ENTRY_POINT.exists():
        return [str(_ENTRY_POINT)]
    return [sys.executable, "-c", "from hms.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(
    data_dir: Path, database_url: str | None = None, *, secret_key: str | None = TEST_SECRET
) -> dict[str, str]:
    """The environment an operator would set: none of the caller's HMS_ variables, a data
    folder, optionally a database and a secret key, and OWASP's minimum argon2id cost so
    that sign-ins stay quick."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HMS_")}
    env.update(
        HMS_DATA_DIR=str(data_dir),
        HMS_ARGON2_TIME_COST="2",
        HMS_ARGON2_MEMORY_KIB="19456",
        HMS_ARGON2_PARALLELISM="1",
    )
    if database_url:
        env["HMS_DATABASE_URL"] = database_url
    if secret_key:
        env["HMS_SECRET_KEY"] = secret_key
    return env


def create_user(env: dict[str, str], username: str, password: str, role: str) -> dict[str, Any]:
    result = subprocess.run(
        [*hms_command(), "users", "create", username, "--role", role, "--password-stdin"],
        env=env,
        input=f"{password}\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


class Server:
    """`hms serve` on a free port; its stderr (the log) goes to a file read after it stops."""

    def __init__(
        self,
        env: dict[str, str],
        log_dir: Path,
        *,
        port: int | None = None,
        args: tuple[str, ...] = (),
        scheme: str = "http",
        verify: str | bool = True,
    ) -> None:
        self.port = port or free_port()
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.verify = verify
        self.log_path = log_dir / f"server-{self.port}.log"
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*hms_command(), "serve", "--port", str(self.port), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"hms serve exited early:\n{self.log_text()}")
            try:
                ready = requests.get(f"{self.url}/health/ready", timeout=2, verify=self.verify)
                if ready.status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                # Not listening yet, or too busy starting to answer within the probe's timeout.
                pass
            time.sleep(0.1)
        raise AssertionError(f"hms serve did not become ready:\n{self.log_text()}")

    def terminate(self, timeout: float = 10) -> int:
        """SIGTERM, then the exit code once the process has finished."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL: the process ends at once, whatever it was doing."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()

    def log_text(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def token(self, username: str, password: str) -> str:
        response = requests.post(
            f"{self.url}/auth/token",
            json={"username": username, "password": password},
            timeout=10,
            verify=self.verify,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def headers(self, username: str, password: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username, password)}"}


def audit_verifies(env: dict[str, str]) -> str:
    result = subprocess.run(
        [*hms_command(), "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
