"""The one Settings object. Nothing else in HMS reads the environment."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Quality measure targets in percent (the API document's); see hms.analytics.measures.
ANALYTICS_TARGETS = {
    "blood_pressure_control": 90.0,
    "diabetes_hba1c_control": 85.0,
    "cancer_screening": 80.0,
    "medication_reconciliation": 95.0,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HMS_", extra="ignore")

    env: str = Field("development", description="'production' turns off demo conveniences")
    data_dir: Path = Path("./var")
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: str | None = None

    jwt_issuer: str = "hms"
    jwt_audience: str = "hms-api"
    access_token_ttl: int = 900
    refresh_token_ttl: int = 14 * 24 * 3600
    session_idle_timeout: int = 30 * 60

    login_max_failures: int = 5
    login_lockout_seconds: int = 15 * 60
    mfa_issuer: str = "HMS"
    mfa_required: bool = Field(
        False, description="Staff who reach patient data must enrol MFA before anything else"
    )
    emergency_access_minutes: int = Field(
        60, ge=1, le=24 * 60, description="How long a break-the-glass grant lasts"
    )

    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4

    rate_limit: str = "1000/minute;100/second"
    rate_limit_enabled: bool = True

    cors_origins: list[str] = []
    proxy_headers: bool = False
    forwarded_allow_ips: str = "127.0.0.1"
    security_headers: bool = True
    hsts: bool = False
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None

    max_body_bytes: int = 1_048_576
    log_level: str = "INFO"
    db_pool_size: int = 10
    idempotency_ttl: int = 24 * 3600

    ws_auth_timeout: float = 5.0
    ws_queue_size: int = 1000
    ws_max_message_bytes: int = 65536
    ws_session_check: float = 30.0
    event_log_size: int = 10000

    graphql_max_depth: int = Field(10, ge=1, description="Deepest GraphQL selection accepted")
    graphql_max_complexity: int = Field(
        10_000, ge=1, description="Highest estimated GraphQL query cost accepted"
    )
    graphql_introspection: bool | None = Field(
        None, description="GraphQL schema introspection; unset means on except in production"
    )
    analytics_targets: dict[str, float] = Field(
        default_factory=lambda: dict(ANALYTICS_TARGETS),
        description="Quality measure targets in percent, as JSON; unnamed ones keep their default",
    )

    @field_validator("analytics_targets")
    @classmethod
    def _known_targets(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(ANALYTICS_TARGETS))
        if unknown:
            raise ValueError(f"unknown quality measure {unknown[0]!r}")
        if any(not 0 <= target <= 100 for target in v.values()):
            raise ValueError("targets are percentages, 0 to 100")
        return ANALYTICS_TARGETS | v

    @field_validator("argon2_memory_kib")
    @classmethod
    def _owasp_memory_floor(cls, v: int) -> int:
        if v < 19456:
            raise ValueError("argon2 memory must be at least 19 MiB (OWASP minimum)")
        return v

    @field_validator("argon2_time_cost")
    @classmethod
    def _owasp_time_floor(cls, v: int) -> int:
        if v < 2:
            raise ValueError("argon2 time cost must be at least 2 (OWASP minimum)")
        return v

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the async driver chosen for the user."""
        url = self.database_url or f"sqlite:///{(self.data_dir / 'hms.db').resolve()}"
        return async_database_url(url)

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        return key


def async_database_url(url: str) -> str:
    """Accept the plain URL forms people write and pick the async driver."""
    for plain, driver in (
        ("postgresql+asyncpg://", "postgresql+asyncpg://"),
        ("postgresql+psycopg://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite+aiosqlite://", "sqlite+aiosqlite://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    raise ValueError("HMS_DATABASE_URL must be a postgresql:// or sqlite:// URL")


@lru_cache
def get_settings() -> Settings:
    return Settings()
