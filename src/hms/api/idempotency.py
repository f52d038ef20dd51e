"""`Idempotency-Key` on POST: a retry returns the first answer instead of creating twice.

The stored answer is written in the same transaction as the record it describes, so a key is
spent only when its request succeeded. Two requests racing with one key: the second gets 409.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.responses import Response
from sqlalchemy import Integer, LargeBinary, String, delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hms.api.deps import ActorDep, SessionDep, get_runtime
from hms.auth.permissions import Actor
from hms.db import Base, UTCDateTime, utcnow
from hms.errors import ValidationFailed


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # hash of user and key
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    location: Mapped[str | None] = mapped_column(String(512))
    etag: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Idempotency:
    def __init__(
        self, session: AsyncSession, actor: Actor, key: str | None, request: Request, ttl: int
    ) -> None:
        self.session = session
        self.key = key
        self.request = request
        self.ttl = ttl
        self.record_id = (
            hashlib.sha256(f"{actor.user_id}:{request.url.path}:{key}".encode()).hexdigest()
            if key
            else None
        )

    async def _request_hash(self) -> str:
        return hashlib.sha256(await self.request.body()).hexdigest()

    async def replay(self) -> Response | None:
        """The stored response of an earlier request with this key, if there was one."""
        if self.record_id is None:
            return None
        record = await self.session.get(IdempotencyRecord, self.record_id)
        if record is None:
            return None
        if record.created_at < utcnow() - timedelta(seconds=self.ttl):
            await self.session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.id == self.record_id)
            )
            return None
        if record.request_hash != await self._request_hash():
            raise ValidationFailed(
                "Idempotency-Key", "This key was already used with a different request body"
            )
        headers = {"Idempotent-Replayed": "true"}
        if record.location:
            headers["Location"] = record.location
        if record.etag:
            headers["ETag"] = record.etag
        return Response(
            record.body,
            status_code=record.status_code,
            media_type="application/json",
            headers=headers,
        )

    async def save(self, response: Response) -> None:
        if self.record_id is None:
            return
        self.session.add(
            IdempotencyRecord(
                id=self.record_id,
                request_hash=await self._request_hash(),
                status_code=response.status_code,
                body=bytes(response.body),
                location=response.headers.get("location"),
                etag=response.headers.get("etag"),
            )
        )
        await self.session.flush()


async def get_idempotency(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=255, description="Makes a retried POST return the first result"),
    ] = None,
) -> Idempotency:
    return Idempotency(
        session, actor, idempotency_key, request, get_runtime(request).settings.idempotency_ttl
    )


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]


async def purge_expired(session: AsyncSession, ttl: int) -> None:
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.created_at < utcnow() - timedelta(seconds=ttl)
        )
    )
