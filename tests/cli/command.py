"""Running the installed `hms` command as a real process, the way an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from hms.app import create_app
from hms.config import Settings
from hms.runtime import Runtime
from tests.conftest import test_settings

_ENTRY_POINT = Path(sys.executable).with_name("hms")


def hms_env(data_dir: Path, settings: Settings | None = None) -> dict[str, str]:
    """An environment with no HMS_ variable of the caller's, pointed at `data_dir` (and at the
    database and secret key of `settings` when given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HMS_")}
    env["HMS_DATA_DIR"] = str(data_dir)
    # OWASP's minimum argon2id cost, as in the test settings, keeps account creation quick.
    env.update(HMS_ARGON2_TIME_COST="2", HMS_ARGON2_MEMORY_KIB="19456", HMS_ARGON2_PARALLELISM="1")
    if settings is not None:
        assert settings.database_url and settings.secret_key
        env["HMS_DATABASE_URL"] = settings.database_url
        env["HMS_SECRET_KEY"] = settings.secret_key
    return env


def run_hms(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    command = (
        [str(_ENTRY_POINT)]
        if _ENTRY_POINT.exists()
        else [sys.executable, "-c", "from hms.cli import main; main()"]
    )
    return subprocess.run(
        [*command, *args],
        env=env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """A refused command exits non-zero with one `error: ...` line and no traceback."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip() == ""
    return lines[0]


@asynccontextmanager
async def api_on(data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The API served from the database and secret key the command left in `data_dir`."""
    settings = test_settings(f"sqlite:///{data_dir / 'hms.db'}", data_dir, secret_key=None)
    runtime = Runtime.build(settings)
    transport = httpx.ASGITransport(app=create_app(settings, runtime), raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await runtime.close()
