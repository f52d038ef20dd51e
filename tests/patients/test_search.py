"""Patient search through the API: tolerant name matching, exact identifiers, ranking, shape."""

from __future__ import annotations

from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import make_patient
from tests.patients.support import PATIENTS, staff, validation_error
from tests.seed_examples import response_body

SEARCH = f"{PATIENTS}/search"


async def _registry(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    people = {
        "john": ("John", "Doe", "+1 (555) 010-0101"),
        "johnny": ("Johnny", "Doeson", "+15550100102"),
        "jane": ("Jane", "Roe", "+15550100103"),
        "jose": ("José", "García", "+15550100104"),
        "muller": ("Anna", "Müller", "+15550100105"),
        "zoe": ("Zoë", "Jonhson", "+15550100106"),
    }
    return {
        key: await make_patient(
            client, headers, first_name=first, last_name=last, contact_number=phone
        )
        for key, (first, last, phone) in people.items()
    }


async def _ids(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> list[str]:
    response = await client.get(SEARCH, params={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["patients"]), query
    return [p["id"] for p in body["patients"]]


async def test_names_match_regardless_of_case_accents_and_typos(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    people = await _registry(client, headers)
    john, jose, muller = people["john"]["id"], people["jose"]["id"], people["muller"]["id"]

    assert john in await _ids(client, headers, "jOhN")
    assert john in await _ids(client, headers, "JOHN DOE")
    assert jose in await _ids(client, headers, "jose")
    assert jose in await _ids(client, headers, "Jose Garcia")
    assert jose in await _ids(client, headers, "JOSÉ")
    assert muller in await _ids(client, headers, "muller")
    assert muller in await _ids(client, headers, "MÜLLER")
    assert people["zoe"]["id"] in await _ids(client, headers, "zoe")

    assert john in await _ids(client, headers, "Jonh Doe")
    assert john in await _ids(client, headers, "Jhon Doe")
    assert muller in await _ids(client, headers, "Mueller")

    unrelated = await _ids(client, headers, "muller")
    assert jose not in unrelated and john not in unrelated
    assert await _ids(client, headers, "Xavier Quentin") == []


async def test_a_name_prefix_finds_every_name_that_starts_with_it(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    people = await _registry(client, headers)
    found = await _ids(client, headers, "Joh")
    assert {people["john"]["id"], people["johnny"]["id"]} <= set(found)
    assert people["jane"]["id"] not in found
    assert people["muller"]["id"] in await _ids(client, headers, "Mül")
    assert people["jose"]["id"] in await _ids(client, headers, "Gar")


async def test_identifiers_find_exactly_their_patient(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    people = await _registry(client, headers)
    jane = people["jane"]
    assert await _ids(client, headers, jane["patient_id"]) == [jane["id"]]
    assert await _ids(client, headers, jane["patient_id"].lower()) == [jane["id"]]
    assert await _ids(client, headers, jane["email"]) == [jane["id"]]
    assert await _ids(client, headers, jane["email"].upper()) == [jane["id"]]

    john = people["john"]["id"]
    for phone in ("15550100101", "+1 555 010 0101", "+1-555-010-0101"):
        assert (await _ids(client, headers, phone))[:1] == [john], phone


async def test_a_phone_number_without_its_country_code_finds_the_patient(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    people = await _registry(client, headers)
    assert (await _ids(client, headers, "(555) 010-0101"))[:1] == [people["john"]["id"]]


async def test_the_exact_name_ranks_first(client: httpx.AsyncClient, runtime: Runtime) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    people = await _registry(client, headers)
    assert (await _ids(client, headers, "John Doe"))[0] == people["john"]["id"]
    assert (await _ids(client, headers, "Johnny Doeson"))[0] == people["johnny"]["id"]
    assert (await _ids(client, headers, "Jonh Doe"))[0] == people["john"]["id"]


async def test_the_response_has_exactly_the_seeds_summary_fields(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    people = await _registry(client, headers)
    documented = response_body("#### Search Patients")
    response = await client.get(SEARCH, params={"query": "Doe", "limit": 1}, headers=headers)
    body = response.json()
    assert set(body) == set(documented)
    assert set(body["patients"][0]) == set(documented["patients"][0])
    assert body["patients"][0]["id"] == people["john"]["id"]
    assert "allergies" not in response.text and "address" not in response.text
    assert (body["total"], body["limit"], body["offset"]) == (2, 1, 0)
    assert body["_links"]["prev"] is None
    following = await client.get(body["_links"]["next"]["href"], headers=headers)
    assert following.json()["offset"] == 1
    assert following.json()["patients"][0]["id"] == people["johnny"]["id"]
    assert following.json()["_links"]["next"] is None


async def test_an_empty_or_oversized_query_is_a_422(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    for params in ({}, {"query": ""}, {"query": "   "}, {"query": "x" * 201}):
        details = validation_error(await client.get(SEARCH, params=params, headers=headers))
        assert details["field"] == "query", params
    for params in ({"query": "John", "limit": 0}, {"query": "John", "limit": 101}):
        assert validation_error(await client.get(SEARCH, params=params, headers=headers))
    odd = await client.get(SEARCH, params={"query": "%' OR 1=1 --"}, headers=headers)
    assert odd.status_code == 200 and odd.json()["patients"] == []


async def _page(
    client: httpx.AsyncClient, headers: dict[str, str], query: str, limit: int, offset: int = 0
) -> tuple[list[str], int]:
    response = await client.get(
        SEARCH, params={"query": query, "limit": limit, "offset": offset}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return [p["last_name"] + " " + p["first_name"] for p in body["patients"]], body["total"]


async def test_names_starting_with_every_word_come_before_typo_matches(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    for first, last in (("Maria", "Lind"), ("Mara", "Lindqvist"), ("Mara", "Lind")):
        await make_patient(client, headers, first_name=first, last_name=last)

    # Two names start with both words: they fill a page of two, and make the total.
    assert await _page(client, headers, "mara lind", 2) == (["Lind Mara", "Lindqvist Mara"], 2)
    # A longer page takes the typo match too, after them, and counts it.
    assert await _page(client, headers, "mara lind", 3) == (
        ["Lind Mara", "Lindqvist Mara", "Lind Maria"],
        3,
    )
    assert await _page(client, headers, "mara lind", 2, offset=2) == (["Lind Maria"], 3)
    # No name starts with "mraa": the swapped letters find both Maras, not Maria.
    assert await _page(client, headers, "Lind Mraa", 10) == (["Lind Mara", "Lindqvist Mara"], 2)


async def test_typo_matches_stay_close_to_the_name_typed(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """A misspelt name is found; names that merely share an ending with each word (Albert and
    Gilbert for "Robert Lambert") are not offered as matches."""
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    for first, last in (("Robert", "Lamberd"), ("Albert", "Gilbert"), ("Herbert", "Dilbert")):
        await make_patient(client, headers, first_name=first, last_name=last)
    assert await _page(client, headers, "Robert Lambert", 10) == (["Lamberd Robert"], 1)


async def test_a_renamed_patient_is_found_by_the_new_name_only(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.ADMIN)
    patient = await make_patient(client, headers, first_name="Olga", last_name="Petrova")
    renamed = await client.put(
        f"{PATIENTS}/{patient['id']}", json={"last_name": "Ivanova"}, headers=headers
    )
    assert renamed.status_code == 200, renamed.text
    assert await _ids(client, headers, "Olga Ivanova") == [patient["id"]]
    assert await _ids(client, headers, "Ivan") == [patient["id"]]
    assert await _ids(client, headers, "Petrova") == []
    moved = await client.put(
        f"{PATIENTS}/{patient['id']}", json={"contact_number": "+15550100999"}, headers=headers
    )
    assert moved.status_code == 200, moved.text
    assert await _ids(client, headers, "olga ivanova") == [patient["id"]]
