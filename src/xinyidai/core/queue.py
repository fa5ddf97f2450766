"""The task queue: huey, with SQLite embedded by default and Redis in production.

``XYD_REDIS_URL`` set → Redis; otherwise a SQLite file beside the database. With
``XYD_QUEUE_IMMEDIATE=true`` (tests) a task runs at once in the caller.
"""

from __future__ import annotations

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from xinyidai.core.settings import Settings, get_settings


def build_huey(settings: Settings) -> Huey:
    if settings.queue_immediate:
        return MemoryHuey("xyd", immediate=True)
    if settings.redis_url:
        return RedisHuey("xyd", url=settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("xyd", filename=str(settings.queue_path))


huey: Huey = build_huey(get_settings())


def backend_name() -> str:
    return type(huey.storage).__name__
