"""URL handling without a database: async drivers, masking, bad URLs."""

from __future__ import annotations

import pytest

from uno_migrations import ConfigurationError
from uno_migrations.connection import async_url, mask_secrets, mask_url


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://app@db/app", "postgresql+asyncpg"),
        ("postgres://app@db/app", "postgresql+asyncpg"),
        ("postgresql+psycopg2://app@db/app", "postgresql+asyncpg"),
        ("postgresql+asyncpg://app@db/app", "postgresql+asyncpg"),
        ("mysql://root@db/app", "mysql+aiomysql"),
        ("mysql+pymysql://root@db/app", "mysql+aiomysql"),
        ("mariadb://root@db/app", "mysql+aiomysql"),
        ("mariadb+aiomysql://root@db/app", "mysql+aiomysql"),
        ("sqlite:///app.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///app.db", "sqlite+aiosqlite"),
    ],
)
def test_sync_urls_get_the_async_driver(given: str, driver: str) -> None:
    assert async_url(given).drivername == driver


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "malformed database URL"),
        ("oracle://scott:tiger@db/x", "unsupported database 'oracle'"),
        ("postgresql+nodriver://u@h/d", "unknown driver 'nodriver'"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        async_url(url)
    assert "tiger" not in str(info.value)


def test_passwords_are_masked() -> None:
    assert mask_url(async_url("postgresql://app:s3cr3t@db:5432/app")) == "postgresql+asyncpg://app:***@db:5432/app"
    text = "cannot connect to mysql://root:hunter2@10.0.0.1/x and postgresql://u:p%40ss@h/d"
    masked = mask_secrets(text)
    assert "hunter2" not in masked and "p%40ss" not in masked
    assert "mysql://root:***@10.0.0.1/x" in masked
