"""Paging: `_count` pages with `next`/`previous` links return every match exactly once."""

from __future__ import annotations

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import make_patient
from tests.fhir.support import fhir_get, ids, link, staff


async def test_walking_next_and_previous(client: httpx.AsyncClient, runtime: Runtime) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    made = [
        (await make_patient(client, doctor.headers, last_name=f"Pager{n:02d}"))["id"]
        for n in range(23)
    ]
    await make_patient(client, doctor.headers, last_name="Other")
    first = await fhir_get(client, "Patient", doctor.headers, name="pager", _count=5)
    assert first["total"] == 23 and link(first, "previous") is None
    pages, seen = [first], ids(first)
    while (url := link(pages[-1], "next")) is not None:
        response = await client.get(url, headers=doctor.headers)
        assert response.status_code == 200
        pages.append(response.json())
        seen += ids(pages[-1])
    assert len(pages) == 5 and len(ids(pages[-1])) == 3
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))
    # Walking back gives the same pages.
    back = pages[-1]
    for page in reversed(pages[:-1]):
        url = link(back, "previous")
        assert url is not None
        back = (await client.get(url, headers=doctor.headers)).json()
        assert ids(back) == ids(page)
    assert all(p["total"] == 23 for p in pages)
    assert link(pages[0], "self").startswith("http://testserver/fhir/R4/Patient?")
    assert (await fhir_get(client, "Patient", doctor.headers, name="pager", _count=0))[
        "entry"
    ] == []
