"""A demo hospital: staff of every role and patients with histories, for trying HMS out.

Every demo account has the password `secure_password` (the API document's example), so never
load the demo into a production database.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from hms.accounts import create_account
from hms.auth.models import User
from hms.auth.permissions import Actor, Role
from hms.db import commit
from hms.demo_history import load_history
from hms.patients import service as patient_service
from hms.patients.schemas import PatientCreate
from hms.runtime import Runtime

DEMO_PASSWORD = "secure_password"

STAFF = [
    # username, role, first, last, specialty, npi (first nine digits), dea prefix
    ("admin", Role.ADMIN, "Ada", "Admin", None, None, None),
    ("doctor_smith", Role.DOCTOR, "John", "Smith", "Family Medicine", "123456789", "AS"),
    ("doctor_patel", Role.DOCTOR, "Priya", "Patel", "Cardiology", "198765432", "BP"),
    ("nurse_jones", Role.NURSE, "Mary", "Jones", "Nursing", "155544433", None),
    ("pharmacist_lee", Role.PHARMACIST, "Daniel", "Lee", "Pharmacy", "176543210", None),
    ("labtech_kim", Role.LAB_TECHNICIAN, "Soo", "Kim", "Clinical Laboratory", None, None),
    ("reception_garcia", Role.RECEPTIONIST, "Lucia", "Garcia", None, None, None),
    ("billing_brown", Role.BILLING, "Tom", "Brown", None, None, None),
]

FIRST = [
    "John",
    "Jane",
    "Maria",
    "José",
    "Chloé",
    "Ahmed",
    "Wei",
    "Olga",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Sofía",
    "Lukas",
    "Aiko",
    "Fatima",
    "Mateo",
    "Zoë",
    "Ivan",
    "Grace",
]
LAST = [
    "Doe",
    "Smith",
    "Johnson",
    "García",
    "Müller",
    "Nguyen",
    "Kowalski",
    "O'Brien",
    "Rossi",
    "Khan",
    "Chen",
    "Dubois",
    "Silva",
    "Ivanova",
    "Brown",
    "Lefèvre",
]
CONDITIONS = [
    "Hypertension",
    "Diabetes Type 2",
    "Asthma",
    "Hyperlipidemia",
    "Hypothyroidism",
    "Osteoarthritis",
    "Depression",
    "GERD",
]
MEDICATIONS = {
    "Hypertension": ("Lisinopril", "10mg", "Once daily"),
    "Diabetes Type 2": ("Metformin", "500mg", "Twice daily"),
    "Asthma": ("Albuterol", "90mcg", "As needed"),
    "Hyperlipidemia": ("Atorvastatin", "20mg", "Once daily at bedtime"),
    "Hypothyroidism": ("Levothyroxine", "50mcg", "Once daily before breakfast"),
    "Depression": ("Sertraline", "50mg", "Once daily"),
    "GERD": ("Omeprazole", "20mg", "Once daily"),
}
ALLERGIES = ["Penicillin", "Latex", "Sulfa drugs", "Peanuts", "Aspirin"]
CITIES = [("Anytown", "CA", "12345"), ("Springfield", "IL", "62701"), ("Riverside", "TX", "75001")]


def luhn_npi(first_nine: str) -> str:
    total = 0
    for i, ch in enumerate(reversed("80840" + first_nine)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return first_nine + str((10 - total % 10) % 10)


def dea_number(prefix: str, six: str) -> str:
    d = [int(c) for c in six]
    return f"{prefix}{six}{(d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10}"


def demo_patient(rng: random.Random, index: int) -> PatientCreate:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if index == 0:
        first, last = "John", "Doe"
    today = date.today()
    born = today - timedelta(days=rng.randint(1 * 365, 90 * 365))
    conditions = rng.sample(CONDITIONS, rng.choice([0, 0, 1, 1, 2, 3]))
    city, state, zip_code = rng.choice(CITIES)
    return PatientCreate(
        first_name=first,
        last_name=last,
        date_of_birth=born,
        gender=rng.choice(["M", "F", "F", "M", "O"]),
        contact_number=f"+1555{rng.randint(1000000, 9999999)}",
        email=f"{first.lower()}.{last.lower()}.{index}@example.org".replace("'", "")
        .encode("ascii", "ignore")
        .decode(),
        address={
            "street": f"{rng.randint(1, 999)} Main St",
            "city": city,
            "state": state,
            "zip_code": zip_code,
            "country": "USA",
        },
        emergency_contact={
            "name": f"{rng.choice(FIRST)} {last}",
            "relationship": "Spouse",
            "phone": f"+1555{rng.randint(1000000, 9999999)}",
        },
        blood_type=rng.choice(["O+", "A+", "B+", "AB+", "O-", "A-"]),
        allergies=rng.sample(ALLERGIES, rng.choice([0, 0, 1, 2])),
        medical_conditions=conditions,
        current_medications=[
            {"name": n, "dosage": d, "frequency": f}
            for c in conditions
            if c in MEDICATIONS
            for n, d, f in [MEDICATIONS[c]]
        ],
    )


async def load_demo(runtime: Runtime, *, patients: int = 60, seed: int = 7) -> str:
    """Idempotent: a second run finds the demo staff and adds nothing."""
    async with runtime.sessionmaker() as session:
        exists = (await session.execute(select(User.id).where(User.username == "admin"))).first()
    if exists:
        return "demo data already loaded"
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    actor = Actor.system()
    records = []
    async with runtime.sessionmaker() as session:
        for index in range(patients):
            records.append(
                await patient_service.create_patient(
                    session, actor=actor, data=demo_patient(rng, index)
                )
            )
        await commit(session)
    first_patient = records[0] if records else None
    accounts = await create_staff(runtime)
    if first_patient is not None:
        await create_account(
            runtime,
            username="john_doe",
            password=DEMO_PASSWORD,
            role=Role.PATIENT,
            patient=first_patient.patient_number,
        )
    visits, booked = await load_history(
        runtime, patients=records, doctor=accounts["doctor_smith"], rng=rng
    )
    return (
        f"demo loaded: {patients} patients with {visits} visit notes and {booked} upcoming "
        f"appointments, {len(STAFF) + 1} users "
        f"(password '{DEMO_PASSWORD}'; 'john_doe' is a patient account)"
    )


async def create_staff(runtime: Runtime) -> dict[str, dict[str, str]]:
    """One account of every staff role (clinicians with their provider records)."""
    accounts = {}
    for i, (username, role, first, last, specialty, npi, dea) in enumerate(STAFF):
        accounts[username] = await create_account(
            runtime,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            first_name=first,
            last_name=last,
            specialty=specialty,
            email=f"{username}@hospital.example.org",
            npi=luhn_npi(npi) if npi else None,
            dea=dea_number(dea, f"{(i * 123457) % 1000000:06d}") if dea else None,
        )
    return accounts
