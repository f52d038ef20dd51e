"""The FHIR R4 door at `/fhir/R4`: `metadata`, read and search of the resource types in
`capability.RESOURCE_TYPES`, and `Patient/$everything`. It is a thin adapter: the domain
services check permissions, narrow a patient user to its own record and audit every read."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response

from hms.api.deps import ActorDep, SessionDep
from hms.api.fhir import everything
from hms.api.fhir.capability import RESOURCE_TYPES, capability_statement
from hms.api.fhir.interactions import Context, ResourceType
from hms.api.fhir.outcome import fhir_response, install_outcome_handlers, issue
from hms.api.fhir.search import FHIR_PATH, Search, check_format, searchset
from hms.api.routing import add_routes
from hms.errors import NotFound
from hms.runtime import Runtime

router = APIRouter()


def _resource_type(name: str) -> ResourceType:
    found = RESOURCE_TYPES.get(name)
    if found is None:
        raise NotFound(f"Resource type '{name}' is not served here; see {FHIR_PATH}/metadata")
    return found


def _lenient(request: Request) -> bool:
    prefer = request.headers.get("prefer", "")
    return any(p.strip() == "handling=lenient" for p in prefer.split(","))


@router.get("/metadata")
async def metadata(request: Request) -> Response:
    """The CapabilityStatement: exactly the resources, interactions and search parameters
    served. Needs no sign-in, as FHIR clients read it first."""
    check_format(request.query_params.get("_format"))
    return fhir_response(capability_statement(request))


@router.get("/Patient/{patient_id}/$everything")
async def patient_everything(
    request: Request, patient_id: str, session: SessionDep, actor: ActorDep
) -> Response:
    """The patient's whole record that the caller may read, as one searchset Bundle."""
    check_format(request.query_params.get("_format"))
    resources = await everything.patient_everything(Context(session, actor), patient_id)
    search = Search(values={}, count=len(resources), offset=0)
    return fhir_response(searchset(request, search, resources, len(resources)))


@router.get("/{resource_type}")
async def search_type(
    request: Request, resource_type: str, session: SessionDep, actor: ActorDep
) -> Response:
    """Search: a searchset Bundle with `total` and `next`/`previous` links."""
    kind = _resource_type(resource_type)
    lenient = _lenient(request)
    search = Search.parse(
        list(request.query_params.multi_items()), kind.param_types, lenient=lenient
    )
    resources, total = await kind.search(Context(session, actor), search)
    warnings = [
        issue("warning", "not-supported", f"Search parameter '{name}' was ignored")
        for name in search.ignored
    ]
    return fhir_response(searchset(request, search, resources, total, warnings=warnings))


@router.get("/{resource_type}/{resource_id}")
async def read(
    request: Request, resource_type: str, resource_id: str, session: SessionDep, actor: ActorDep
) -> Response:
    """Read one resource by id."""
    kind = _resource_type(resource_type)
    check_format(request.query_params.get("_format"))
    return fhir_response(await kind.read(Context(session, actor), resource_id))


def mount_fhir(app: FastAPI, runtime: Runtime) -> None:
    """A sub-application of its own, so that its one error handler answers every failure under
    `/fhir/R4` (unknown paths and methods included) with an OperationOutcome."""
    fhir = FastAPI(title="HMS FHIR R4", openapi_url=None, docs_url=None, redoc_url=None)
    fhir.state.runtime = runtime
    install_outcome_handlers(fhir)
    add_routes(fhir.router, router)
    app.mount(FHIR_PATH, fhir)
