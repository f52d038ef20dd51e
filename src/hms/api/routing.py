"""Routes copied into one flat table.

FastAPI (since 0.137) keeps every `include_router` as a nested router that is matched, then
matched again while it dispatches, at each level, for each request: with the REST API's routers
nested under `/api/v1`, finding a route cost more than the rest of an empty request. The REST
routers are therefore copied route by route into the application's own table, as FastAPI did
before; the route objects, their dependencies and their OpenAPI description are the same.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute


def add_routes(target: APIRouter, source: APIRouter, prefix: str = "") -> None:
    """Every route of `source` added to `target` under `prefix`, in order. `source` holds
    only API routes (its own prefix, tags and dependencies are already in each of them)."""
    for route in source.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"only API routes can be copied, not {route!r}")
        target.add_api_route(
            prefix + route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=list(route.tags),
            dependencies=list(route.dependencies),
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=dict(route.responses),
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            route_class_override=type(route),
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
        )
