"""The GraphQL endpoint: POST runs operations, GET serves GraphiQL with its scripts and styles
from this server (no CDN: hospital networks are often closed to the internet)."""

from __future__ import annotations

import datetime as dt
from importlib.resources import files
from typing import Any, NewType

import strawberry
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionContext, ExecutionResult

from graphql import GraphQLError
from hms.api.graphql.context import GraphQLContext, fail, graphql_context
from hms.api.graphql.errors import format_error
from hms.api.graphql.limits import limit_extensions
from hms.api.graphql.schema import Mutation, Query
from hms.api.middleware import PAGE_CSP
from hms.config import Settings

GRAPHQL_PATH = "/api/v1/graphql"
STATIC_PATH = f"{GRAPHQL_PATH}/static"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>HMS GraphQL</title>
<link rel="stylesheet" href="{static}/graphiql.min.css">
<style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL...</div>
<script src="{static}/react.production.min.js"></script>
<script src="{static}/react-dom.production.min.js"></script>
<script src="{static}/graphiql.min.js"></script>
<script>
  const fetcher = GraphiQL.createFetcher({{ url: "{endpoint}" }});
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {{
      fetcher,
      defaultHeaders: '{{"Authorization": "Bearer <access token from POST /auth/token>"}}',
      shouldPersistHeaders: false,
    }})
  );
</script>
</body>
</html>
"""


def _rfc3339(value: dt.datetime) -> str:
    # The contract's timestamps: UTC with `Z`, as REST writes them.
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


DateTime: Any = strawberry.scalar(
    NewType("DateTime", dt.datetime),
    name="DateTime",
    description="An RFC 3339 timestamp; answers are in UTC with Z",
    serialize=_rfc3339,
    parse_value=dt.datetime.fromisoformat,
)


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected failures (not found, forbidden) are answers, not incidents: the formatter
        # logs only the unexpected ones.
        return None


class HMSGraphQLRouter(GraphQLRouter[GraphQLContext, None]):
    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        page = HTMLResponse(PAGE.format(static=STATIC_PATH, endpoint=GRAPHQL_PATH))
        page.headers["Content-Security-Policy"] = PAGE_CSP
        return page

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """The one error handler: contract codes in `extensions.code`; any error rolls the
        request's unit of work back."""
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            fail(request, result.errors[0].original_error or result.errors[0])
            request_id = getattr(request.state, "request_id", None)
            out["errors"] = [format_error(error, request_id) for error in result.errors]
        return out  # type: ignore[return-value]


def build_schema(settings: Settings) -> Schema:
    introspection = settings.graphql_introspection
    if introspection is None:
        introspection = settings.env != "production"
    return Schema(
        query=Query,
        mutation=Mutation,
        scalar_overrides={dt.datetime: DateTime},
        extensions=limit_extensions(
            max_depth=settings.graphql_max_depth,
            max_cost=settings.graphql_max_complexity,
            introspection=introspection,
        ),
    )


def mount_graphql(app: FastAPI, settings: Settings) -> None:
    router = HMSGraphQLRouter(
        build_schema(settings),
        path=GRAPHQL_PATH,
        context_getter=graphql_context,
        allow_queries_via_get=False,
        subscription_protocols=(),
    )
    router.include_in_schema = False
    app.include_router(router, include_in_schema=False)
    static = files("hms.api.graphql") / "static"
    app.mount(STATIC_PATH, StaticFiles(directory=str(static)), name="graphql-assets")
