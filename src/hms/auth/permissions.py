"""The one permission map. REST, GraphQL, WebSocket and FHIR all ask it, through the services.

A `patient` user holds read permissions too, but every query it makes is narrowed to its own
record, and staff queries leave out the restricted patients they do not care for (see
`hms.access.scoping`): the map says *what* and the query says *whose*.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from hms.errors import Forbidden


class Role(StrEnum):
    ADMIN = "admin"
    DOCTOR = "doctor"
    NURSE = "nurse"
    PHARMACIST = "pharmacist"
    LAB_TECHNICIAN = "lab_technician"
    RECEPTIONIST = "receptionist"
    BILLING = "billing"
    PATIENT = "patient"


CLINICIAN_ROLES = frozenset({Role.DOCTOR, Role.NURSE, Role.PHARMACIST, Role.LAB_TECHNICIAN})


class Permission(StrEnum):
    PATIENTS_READ = "patients:read"
    PATIENTS_CREATE = "patients:create"
    PATIENTS_UPDATE = "patients:update"
    PATIENTS_DEACTIVATE = "patients:deactivate"
    PATIENTS_RESTRICT = "patients:restrict"
    PROVIDERS_READ = "providers:read"
    PROVIDERS_WRITE = "providers:write"
    USERS_MANAGE = "users:manage"
    AUDIT_READ = "audit:read"
    ENCOUNTERS_READ = "encounters:read"
    ENCOUNTERS_WRITE = "encounters:write"
    PRESCRIPTIONS_READ = "prescriptions:read"
    PRESCRIPTIONS_SIGN = "prescriptions:sign"
    PRESCRIPTIONS_DISPENSE = "prescriptions:dispense"
    LAB_ORDER = "lab:order"
    LAB_RESULTS_READ = "lab:results:read"
    LAB_RESULTS_ENTER = "lab:results:enter"
    APPOINTMENTS_READ = "appointments:read"
    APPOINTMENTS_WRITE = "appointments:write"
    BILLING_READ = "billing:read"
    BILLING_WRITE = "billing:write"
    ANALYTICS_READ = "analytics:read"
    AUDIT_READ_OWN = "audit:read:own"
    EMERGENCY_ACCESS = "emergency_access"


P = Permission

_CLINICAL_READ = {
    P.PATIENTS_READ,
    P.PROVIDERS_READ,
    P.ENCOUNTERS_READ,
    P.PRESCRIPTIONS_READ,
    P.LAB_RESULTS_READ,
    P.APPOINTMENTS_READ,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # Administrators run the system; the clinical acts themselves (signing, dispensing,
    # resulting) stay with the clinical roles, as the contract requires.
    # Administrators reach every record already, so they need no emergency access.
    Role.ADMIN: frozenset(Permission)
    - {
        P.AUDIT_READ_OWN,
        P.PRESCRIPTIONS_SIGN,
        P.PRESCRIPTIONS_DISPENSE,
        P.LAB_RESULTS_ENTER,
        P.EMERGENCY_ACCESS,
    },
    Role.DOCTOR: frozenset(
        _CLINICAL_READ
        | {
            P.PATIENTS_CREATE,
            P.PATIENTS_UPDATE,
            P.ENCOUNTERS_WRITE,
            P.PRESCRIPTIONS_SIGN,
            P.LAB_ORDER,
            P.APPOINTMENTS_WRITE,
            P.BILLING_READ,
            P.ANALYTICS_READ,
            P.EMERGENCY_ACCESS,
        }
    ),
    Role.NURSE: frozenset(
        _CLINICAL_READ
        | {
            P.PATIENTS_CREATE,
            P.PATIENTS_UPDATE,
            P.ENCOUNTERS_WRITE,
            P.LAB_ORDER,
            P.APPOINTMENTS_WRITE,
            P.ANALYTICS_READ,
            P.EMERGENCY_ACCESS,
        }
    ),
    Role.PHARMACIST: frozenset(
        {
            P.PATIENTS_READ,
            P.PROVIDERS_READ,
            P.PRESCRIPTIONS_READ,
            P.PRESCRIPTIONS_DISPENSE,
            P.LAB_RESULTS_READ,
        }
    ),
    Role.LAB_TECHNICIAN: frozenset(
        {
            P.PATIENTS_READ,
            P.PROVIDERS_READ,
            P.LAB_RESULTS_READ,
            P.LAB_RESULTS_ENTER,
        }
    ),
    Role.RECEPTIONIST: frozenset(
        {
            P.PATIENTS_READ,
            P.PATIENTS_CREATE,
            P.PATIENTS_UPDATE,
            P.PROVIDERS_READ,
            P.APPOINTMENTS_READ,
            P.APPOINTMENTS_WRITE,
        }
    ),
    Role.BILLING: frozenset(
        {
            P.PATIENTS_READ,
            P.PROVIDERS_READ,
            P.BILLING_READ,
            P.BILLING_WRITE,
        }
    ),
    Role.PATIENT: frozenset(
        {
            P.PATIENTS_READ,
            P.PATIENTS_UPDATE,
            P.PROVIDERS_READ,
            P.ENCOUNTERS_READ,
            P.PRESCRIPTIONS_READ,
            P.LAB_RESULTS_READ,
            P.APPOINTMENTS_READ,
            P.APPOINTMENTS_WRITE,
            P.BILLING_READ,
            P.AUDIT_READ_OWN,
        }
    ),
}


# The staff roles that reach patient data: those HMS_MFA_REQUIRED obliges to enrol MFA.
MFA_POLICY_ROLES = frozenset(
    role
    for role, permissions in ROLE_PERMISSIONS.items()
    if role != Role.PATIENT and Permission.PATIENTS_READ in permissions
)


@dataclass(frozen=True)
class Actor:
    """Who is acting: the signed-in user as the services see it."""

    user_id: uuid.UUID | None
    role: Role
    username: str = ""
    patient_id: uuid.UUID | None = None
    provider_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    permissions: frozenset[Permission] = field(default=frozenset())
    # Restricted patients this user holds an active emergency-access grant for.
    emergency_patients: frozenset[uuid.UUID] = field(default=frozenset())

    @classmethod
    def for_user(
        cls,
        *,
        user_id: uuid.UUID | None,
        role: Role,
        username: str = "",
        patient_id: uuid.UUID | None = None,
        provider_id: uuid.UUID | None = None,
        session_id: uuid.UUID | None = None,
        emergency_patients: frozenset[uuid.UUID] = frozenset(),
    ) -> Actor:
        return cls(
            user_id=user_id,
            role=role,
            username=username,
            patient_id=patient_id,
            provider_id=provider_id,
            session_id=session_id,
            permissions=ROLE_PERMISSIONS[role],
            emergency_patients=emergency_patients,
        )

    @classmethod
    def system(cls) -> Actor:
        """The command line and the demo loader act as an administrator with no user."""
        return cls.for_user(user_id=None, role=Role.ADMIN, username="system")

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        if permission not in self.permissions:
            raise Forbidden(
                f"Role '{self.role}' may not do this ({permission})",
                details={"permission": str(permission)},
            )

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def patient_scope(self) -> uuid.UUID | None:
        """For a patient user, the one patient record it may reach; None for staff."""
        if self.role != Role.PATIENT:
            return None
        # A patient account not linked to a record reaches nothing: a UUID no row has.
        return self.patient_id or uuid.UUID(int=0)


def permission_matrix_markdown() -> str:
    """The role-permission matrix as a Markdown table (docs/permissions.md embeds it)."""
    roles = list(Role)
    lines = [
        "| permission | " + " | ".join(r.value for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for permission in Permission:
        marks = ("✓" if permission in ROLE_PERMISSIONS[r] else "" for r in roles)
        lines.append(f"| `{permission.value}` | " + " | ".join(marks) + " |")
    return "\n".join(lines)
