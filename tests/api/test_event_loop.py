"""Every request is served on the event loop: FastAPI runs a plain-function endpoint or
dependency in a worker thread, and that hop (with the interpreter lock handed over twice) cost
as much as the rest of a request (/auth/me served half as many requests a second)."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from hms.app import create_app
from hms.config import Settings
from hms.runtime import Runtime


def _runs_on_loop(call: Any) -> bool:
    target = call if inspect.isfunction(call) or inspect.ismethod(call) else call.__call__
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def _plain(dependant: Dependant) -> list[str]:
    found = []
    for dependency in dependant.dependencies:
        if dependency.call is not None and not _runs_on_loop(dependency.call):
            found.append(getattr(dependency.call, "__qualname__", repr(dependency.call)))
        found += _plain(dependency)
    return found


async def test_no_endpoint_or_dependency_runs_in_a_worker_thread(
    settings: Settings, runtime: Runtime
) -> None:
    app = create_app(settings, runtime)
    routes = [route for route in app.routes if isinstance(route, APIRoute)]
    assert len(routes) > 50
    plain = {
        f"{','.join(sorted(route.methods or ()))} {route.path}: {name}"
        for route in routes
        for name in ([] if _runs_on_loop(route.endpoint) else ["endpoint"])
        + _plain(route.dependant)
    }
    assert not plain, sorted(plain)
