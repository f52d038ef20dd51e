"""The `hms` command. Every command migrates a fresh data folder first and exits non-zero with
a one-line reason on bad input."""

from __future__ import annotations

import asyncio
import functools
import json
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, TypeVar

import typer

from hms.config import Settings, get_settings
from hms.errors import HMSError

app = typer.Typer(
    help="HMS hospital management service",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
users_app = typer.Typer(help="Manage user accounts", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")

T = TypeVar("T")
BULK_THRESHOLD = 1000


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def run(coro_fn: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
    """Run an async command, turning known failures into one line on stderr and exit 1."""

    @functools.wraps(coro_fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return asyncio.run(coro_fn(*args, **kwargs))
        except HMSError as exc:
            detail = exc.details.get("error") if exc.details else None
            raise fail(
                f"{exc.message}"
                if not detail or detail in exc.message
                else f"{exc.message} ({detail})"
            ) from None
        except (ValueError, OSError) as exc:
            raise fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None

    return wrapper


async def _prepared_runtime(settings: Settings) -> Any:
    from hms.migrate import upgrade
    from hms.runtime import Runtime

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    runtime = Runtime.build(settings)
    await upgrade(runtime.engine)
    return runtime


@app.command()
def migrate() -> None:
    """Apply pending database migrations."""

    @run
    async def go() -> None:
        runtime = await _prepared_runtime(get_settings())
        await runtime.close()
        typer.echo("database is up to date")

    go()


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes")] = 1,
    ssl_certfile: Annotated[
        Path | None, typer.Option(help="Serve HTTPS with this PEM certificate (chain)")
    ] = None,
    ssl_keyfile: Annotated[
        Path | None, typer.Option(help="The certificate's PEM private key")
    ] = None,
) -> None:
    """Apply pending migrations, then serve the API (SIGTERM finishes in-flight requests)."""
    import uvicorn

    settings = get_settings()
    certfile = ssl_certfile or settings.ssl_certfile
    keyfile = ssl_keyfile or settings.ssl_keyfile
    if (certfile is None) != (keyfile is None):
        raise fail("HTTPS needs both a certificate (--ssl-certfile) and its key (--ssl-keyfile)")
    for path in (certfile, keyfile):
        if path is not None and not path.is_file():
            raise fail(f"no such file: {path}")
    migrate()
    # uvicorn re-raises the SIGTERM it handled once its graceful shutdown is over, which would
    # report the process as killed; the stop was clean, and the exit status says so.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        "hms.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=settings.proxy_headers,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=30,
        log_config=None,
        access_log=False,
        server_header=False,
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
    )


@users_app.command("create")
def users_create(
    username: str,
    role: Annotated[
        str,
        typer.Option(
            help="admin, doctor, nurse, pharmacist, lab_technician, "
            "receptionist, billing or patient"
        ),
    ],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin")
    ] = False,
    mfa: Annotated[bool, typer.Option("--mfa", help="Enrol TOTP now; prints the secret")] = False,
    first_name: Annotated[str | None, typer.Option()] = None,
    last_name: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    specialty: Annotated[str | None, typer.Option()] = None,
    npi: Annotated[str | None, typer.Option()] = None,
    dea: Annotated[str | None, typer.Option()] = None,
    patient: Annotated[
        str | None, typer.Option(help="For role patient: the patient's id or number")
    ] = None,
) -> None:
    """Create a user; a clinician also gets its provider record. Prints one JSON object."""
    from hms.auth.permissions import Role

    try:
        role_value = Role(role)
    except ValueError:
        raise fail(f"unknown role '{role}'; one of: {', '.join(r.value for r in Role)}") from None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        raise fail("give the password with --password-stdin")

    @run
    async def go() -> dict[str, Any]:
        from hms.accounts import create_account

        runtime = await _prepared_runtime(get_settings())
        try:
            return await create_account(
                runtime,
                username=username,
                password=password,
                role=role_value,
                mfa=mfa,
                first_name=first_name,
                last_name=last_name,
                email=email,
                specialty=specialty,
                npi=npi,
                dea=dea,
                patient=patient,
            )
        finally:
            await runtime.close()

    typer.echo(json.dumps(go()))


@app.command()
def demo(
    patients: Annotated[int, typer.Option(min=0, help="How many patients to create")] = 60,
    bulk: Annotated[
        bool | None,
        typer.Option(
            "--bulk/--no-bulk",
            help="Bulk-load rows instead of going through the services "
            f"(default: above {BULK_THRESHOLD} patients)",
        ),
    ] = None,
) -> None:
    """Load a demo hospital: staff of every role and patients with histories.

    A bulk load (e.g. `--patients 1000000`) adds that many patients on every run, with visits,
    vital signs, diagnoses, prescriptions, HbA1c results, appointments and charges."""
    use_bulk = patients > BULK_THRESHOLD if bulk is None else bulk

    @run
    async def go() -> str:
        from hms.demo import load_demo
        from hms.demo_bulk import load_bulk

        runtime = await _prepared_runtime(get_settings())
        try:
            if use_bulk:
                return await load_bulk(
                    runtime,
                    patients=patients,
                    progress=lambda done: typer.echo(f"{done} patients", err=True),
                )
            return await load_demo(runtime, patients=patients)
        finally:
            await runtime.close()

    typer.echo(go())


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit chain; exit 1 and name the first bad entry if it was altered."""

    @run
    async def go() -> Any:
        from hms.audit.sealing import verify_chain

        runtime = await _prepared_runtime(get_settings())
        try:
            async with runtime.sessionmaker() as session:
                return await verify_chain(session, secret_key=runtime.auth.secret_key)
        finally:
            await runtime.close()

    report = go()
    if not report.ok:
        raise fail(
            f"audit chain broken at entry {report.first_bad_seq}: {report.problem} "
            f"({report.checked} entries verified before it)"
        )
    pending = f" ({report.unsealed} not linked yet: written by transactions still open)"
    typer.echo(f"ok: {report.checked} audit entries verified{pending if report.unsealed else ''}")


@app.command()
def openapi() -> None:
    """Print the OpenAPI document."""
    from hms.app import create_app

    settings = get_settings()
    typer.echo(json.dumps(create_app(settings).openapi(), indent=2))


def main() -> None:
    app()
