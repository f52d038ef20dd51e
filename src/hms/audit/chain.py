"""The tamper-evident link: each entry's HMAC covers its content and the previous entry's hash.

Keyed with the server's secret, so a person who can edit the table but does not hold the key
cannot rewrite the chain to hide an edit.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson

from hms.audit.models import AuditEntry

GENESIS = "0" * 64


def chain_key(secret_key: str) -> bytes:
    return hashlib.sha256(b"hms-audit-chain:" + secret_key.encode()).digest()


def entry_hash(key: bytes, entry: AuditEntry, prev_hash: str) -> str:
    content: dict[str, Any] = {
        "seq": entry.seq,
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
        "prev_hash": prev_hash,
    }
    payload = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    return hmac.new(key, payload, hashlib.sha256).hexdigest()
