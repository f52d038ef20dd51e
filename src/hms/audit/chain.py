"""The tamper-evident trail, keyed with the server's secret so that a person who can edit the
tables but does not hold the key cannot rewrite them to hide an edit.

- Each entry carries `hash`, an HMAC of its content, computed by the request that writes it:
  an edited or forged entry does not match.
- The sealer (`hms.audit.sealing`) links entries into a chain shortly after they commit: each
  link is an HMAC over the previous link's hash, the entry's number and the entry's hash, so a
  removed or reordered entry breaks the chain. Writing the link apart from the request keeps
  requests from queueing on the chain's last link.
- Entries written before the links existed are chained by `prev_hash` inside the entry itself,
  which is part of their HMAC; they keep being verified that way.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson

GENESIS = "0" * 64
# The `prev_hash` of an entry linked by the sealer rather than in the entry.
UNCHAINED = ""


def chain_key(secret_key: str) -> bytes:
    return hashlib.sha256(b"hms-audit-chain:" + secret_key.encode()).digest()


def entry_hash(key: bytes, entry: Any) -> str:
    """The HMAC of the entry's content (and, for a pre-link entry, of its link): an
    `AuditEntry` row or an entry still waiting to be written."""
    content: dict[str, Any] = {
        "id": str(entry.id),
        "occurred_at": entry.occurred_at.isoformat(),
        "user_id": str(entry.user_id) if entry.user_id else None,
        "username": entry.username,
        "role": entry.role,
        "ip_address": entry.ip_address,
        "user_agent": entry.user_agent,
        "action": entry.action,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "patient_id": str(entry.patient_id) if entry.patient_id else None,
        "outcome": entry.outcome,
        "request_id": entry.request_id,
        "details": entry.details or {},
        "prev_hash": entry.prev_hash,
    }
    if entry.prev_hash != UNCHAINED:
        # A pre-link entry knew its number when it was written; a newer one gets it from the
        # database as it is inserted, and its link records it.
        content["seq"] = entry.seq
    payload = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def link_hash(key: bytes, prev_hash: str, seq: int, entry_digest: str) -> str:
    payload = f"{prev_hash}:{seq}:{entry_digest}".encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()
