"""Per-user rate limits (per address when anonymous), a sliding window shared through Redis
when configured, so that every server process counts the same requests."""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hms.api.errors import send_error
from hms.api.middleware import client_address
from hms.auth.tokens import AuthConfig, peek_subject

log = logging.getLogger("hms.ratelimit")
EXEMPT_PREFIXES = ("/health/",)


class RateLimits:
    def __init__(self, spec: str, redis_url: str | None) -> None:
        self.items: list[RateLimitItem] = sorted(
            parse_many(spec), key=lambda item: item.get_expiry(), reverse=True
        )
        if redis_url:
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            storage = storage_from_string(uri, implementation="redispy", key_prefix="hms-rl")
        else:
            storage = storage_from_string("async+memory://")
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)

    async def check(self, key: str) -> tuple[bool, dict[str, str]]:
        """Count one request; return whether it may go on, and the headers to send.

        The headers describe the main (per-minute) limit, except on a refusal: then they
        describe the limit that refused, so that a 429 never claims requests remain."""
        refused_by: RateLimitItem | None = None
        for item in reversed(self.items):  # the burst limit first
            if not await self.limiter.hit(item, key):
                refused_by = item
                break
        shown = refused_by or self.items[0]
        stats = await self.limiter.get_window_stats(shown, key)
        headers = {
            "X-RateLimit-Limit": str(shown.amount),
            "X-RateLimit-Remaining": str(max(stats.remaining, 0)),
            "X-RateLimit-Reset": str(math.ceil(stats.reset_time)),
        }
        if refused_by is not None:
            headers["Retry-After"] = str(max(math.ceil(stats.reset_time - time.time()), 1))
        return refused_by is None, headers

    async def reset(self) -> None:
        await self.limiter.storage.reset()


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limits: RateLimits, auth: AuthConfig) -> None:
        self.app = app
        self.limits = limits
        self.auth = auth

    def _key(self, scope: Scope) -> str:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token:
                    subject = peek_subject(self.auth, token.strip())
                    if subject:
                        return f"user:{subject}"
                break
        return f"addr:{client_address(scope)}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        try:
            allowed, headers = await self.limits.check(self._key(scope))
        except Exception as exc:  # a rate-limit store outage must not take the API down
            log.warning("rate limit store unavailable: %s", type(exc).__name__)
            await self.app(scope, receive, send)
            return
        if not allowed:
            await send_error(
                scope,
                send,
                status=429,
                code="RATE_LIMITED",
                message="Too many requests; slow down and retry later",
                details={"retry_after": int(headers["Retry-After"])},
                headers=headers,
            )
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                mutable = MutableHeaders(scope=message)
                for key, value in headers.items():
                    mutable[key] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
