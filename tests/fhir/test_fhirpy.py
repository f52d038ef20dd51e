"""A real FHIR client, fhirpy's AsyncFHIRClient, reads and searches HMS served by uvicorn."""

from __future__ import annotations

from fhirpy import AsyncFHIRClient

from hms.runtime import Runtime
from tests.fhir.support import record, valid
from tests.realtime.support import serving


async def test_fhirpy_reads_and_searches(runtime: Runtime) -> None:
    async with serving(runtime) as served:
        made = await record(served.http, runtime)
        base = str(served.http.base_url).rstrip("/") + "/fhir/R4"
        token = made.doctor.headers["Authorization"]
        fhir = AsyncFHIRClient(base, authorization=token, aiohttp_config={"timeout": 30})
        pid = made.patient["id"]

        patient = await fhir.reference("Patient", pid).to_resource()
        assert patient["name"][0]["family"] == made.patient["last_name"]
        valid(patient.serialize())

        encounters = await fhir.resources("Encounter").search(patient=pid).fetch_all()
        assert [e["id"] for e in encounters] == [made.encounter["id"]]
        observations = (
            await fhir.resources("Observation")
            .search(patient=pid, date__ge="2024-01-01")
            .limit(2)
            .fetch_all()
        )
        # Five vital signs and three results, fetched two a page through the next links.
        assert len(observations) == 8 and len({o["id"] for o in observations}) == 8
        for observation in observations:
            valid(observation.serialize())
        assert await fhir.resources("Condition").search(patient=pid).count() == 2
        heart = await fhir.resources("Observation").search(patient=pid, code="8867-4").first()
        assert heart is not None and heart["valueQuantity"]["value"] == 72
