from __future__ import annotations

import httpx
import pytest

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import signed_in


@pytest.fixture
async def admin(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, str]:
    """Headers of a signed-in administrator, to read the audit trail with."""
    return await signed_in(client, runtime, role=Role.ADMIN)
