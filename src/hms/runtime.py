"""Everything a running HMS holds: settings, database, broker, auth keys, rate limits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hms.auth.tokens import AuthConfig
from hms.config import Settings
from hms.db import create_engine
from hms.events import Broker, create_broker


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    auth: AuthConfig
    broker: Broker

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings.sqlalchemy_url, pool_size=settings.db_pool_size)
        auth = AuthConfig.from_settings(settings)
        broker = create_broker(settings.redis_url)
        maker = async_sessionmaker(
            engine,
            expire_on_commit=False,
            autoflush=False,
            info={"secret_key": auth.secret_key, "broker": broker},
        )
        return cls(settings=settings, engine=engine, sessionmaker=maker, auth=auth, broker=broker)

    async def close(self) -> None:
        await self.broker.close()
        await self.engine.dispose()
