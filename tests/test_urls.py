"""URL handling without a database: async drivers, masking, bad URLs."""

from __future__ import annotations

import pytest

from uno_migrations import ConfigurationError
from uno_migrations.urls import async_url, mask_secrets, mask_url


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
    assert (
        mask_url(async_url("postgresql://app:s3cr3t@db:5432/app"))
        == "postgresql+asyncpg://app:***@db:5432/app"
    )
    text = "cannot connect to mysql://root:hunter2@10.0.0.1/x and postgresql://u:p%40ss@h/d"
    masked = mask_secrets(text)
    assert "hunter2" not in masked and "p%40ss" not in masked
    assert "mysql://root:***@10.0.0.1/x" in masked


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://app:s3cr3t@db/app?password=s3cr3t", "postgresql://app:***@db/app?password=***"),
        ("postgresql://app@db/app?password=s3cr3t", "postgresql://app@db/app?password=***"),
        ("mysql://root@db/app?passwd=s3cr3t", "mysql://root@db/app?passwd=***"),
        ("mysql://root@db/app?PassWord=s3cr3t", "mysql://root@db/app?PassWord=***"),
        (
            "postgresql://app@db/app?sslmode=require&password=s3cr3t&sslpassword=k3y&application_name=uno",
            "postgresql://app@db/app?sslmode=require&password=***&sslpassword=***&application_name=uno",
        ),
        (
            "postgresql://app@db/app?auth_token=t0k&Client_Secret=sh",
            "postgresql://app@db/app?auth_token=***&Client_Secret=***",
        ),
        ("mysql://root@db/app?PWD=s3cr3t;x", "mysql://root@db/app?PWD=***"),
        ("postgresql://app:p%40ss@db/app?password=s3cr%33t%20x", "postgresql://app:***@db/app?password=***"),
        ("postgresql://app@db/app?p%61ssword=s3cr3t", "postgresql://app@db/app?p%61ssword=***"),
        ("postgresql://app@db/app?password=my s3cr3t&x=1", "postgresql://app@db/app?password=***&x=1"),
        (
            "postgresql://app@db/app?options=-c%20password%3Ds3cr3t",
            "postgresql://app@db/app?options=-c%20password%3D***",
        ),
        # Not parseable by SQLAlchemy (the port), so masked by text rules alone.
        ("postgresql://app:my s3cr3t@db:x/app", "postgresql://app:***@db:x/app"),
        ("postgresql://app:p@ss@db:x/app", "postgresql://app:***@db:x/app"),
        ("postgresql://app:my p@ss word@db/app?email=a@b", "postgresql://app:***@db/app?email=a@b"),
        ("postgresql://app:p/s?s@db:x/app?password=a b", "postgresql://app:***@db:x/app?password=***"),
    ],
)
def test_mask_url_hides_every_password_in_a_string(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "postgresql://app@db/app?sslmode=require&password=s3cr3t",
            "postgresql+asyncpg://app@db/app?password=***&sslmode=require",
        ),
        ("mysql://root@db/app?passwd=a%20b&passwd=c", "mysql+aiomysql://root@db/app?passwd=***&passwd=***"),
        # SQLAlchemy reads the password as "p" and the host as "ss@db": the whole "p@ss" is hidden.
        ("postgresql://app:p@ss@db/app", "postgresql+asyncpg://app:***@db/app"),
    ],
)
def test_mask_url_hides_every_password_in_a_url_object(url: str, masked: str) -> None:
    assert mask_url(async_url(url)) == masked


def test_only_secrets_change() -> None:
    plain = [
        "postgresql+asyncpg://app@db:5432/app?sslmode=require&application_name=uno",
        "mysql://root@127.0.0.1:3306/test?charset=utf8mb4",
        "sqlite+aiosqlite:////tmp/app.db?uri=true&mode=ro",
        "sqlite:///:memory:",
    ]
    for url in plain:
        assert mask_url(url) == url
        assert mask_url(async_url(url)) == async_url(url).render_as_string(hide_password=False)
        assert mask_secrets(f"connected to {url} in 3 ms") == f"connected to {url} in 3 ms"
    assert mask_url(f"{plain[0]}&password=s3cr3t") == f"{plain[0]}&password=***"


def test_mask_secrets_hides_every_url_in_a_text() -> None:
    text = (
        "could not reach mysql://root:hunter2@10.0.0.1/x or postgresql://u@h/d?sslmode=require&password=s3cr3t,"
        " nor postgresql://u:p@ss@h2/d (tried twice)"
    )
    assert mask_secrets(text) == (
        "could not reach mysql://root:***@10.0.0.1/x or postgresql://u@h/d?sslmode=require&password=***"
        " nor postgresql://u:***@h2/d (tried twice)"
    )


def test_mask_secrets_hides_malformed_urls_in_tracebacks() -> None:
    trace = (
        "Traceback (most recent call last):\n"
        "sqlalchemy.exc.ArgumentError: Could not parse SQLAlchemy URL from string 'postgresql://u:my s3cr3t@h:x/d'\n"
        "ConfigurationError: malformed database URL: postgresql://u:my s3cr3t@h:x/d\n"
    )
    masked = mask_secrets(trace)
    assert "s3cr3t" not in masked
    assert "from string 'postgresql://u:***@h:x/d'\n" in masked
    assert masked.endswith("malformed database URL: postgresql://u:***@h:x/d\n")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "connect() got {'host': 'db', 'password': 's3cr3t', 'port': 5432}",
            "connect() got {'host': 'db', 'password': '***', 'port': 5432}",
        ),
        ('{"database": "x", "password": "s3\\"cr3t"}', '{"database": "x", "password": "***"}'),
        ("dsn host=db password=s3cr3t dbname=app", "dsn host=db password=*** dbname=app"),
        ("connect(passwd='s3cr3t', ssl_secret = \"k\")", "connect(passwd='***', ssl_secret = \"***\")"),
        ("password: 's3cr3t' was refused", "password: '***' was refused"),
        # MySQL's own wording says whether a password was sent; that is no secret.
        (
            "Access denied for user 'root'@'127.0.0.1' (using password: YES); token=abc",
            "Access denied for user 'root'@'127.0.0.1' (using password: YES); token=***",
        ),
    ],
)
def test_mask_secrets_hides_password_fragments_drivers_print(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked


def test_masking_a_masked_message_again_changes_nothing() -> None:
    # The library writes "cannot connect to <masked URL>: <driver message>"; the CLI masks it again.
    url = mask_url("postgresql://u:p@ss@h/d?password=s3cr3t")
    message = f"cannot connect to {url}: refused (password=***, port 1)"
    assert message == "cannot connect to postgresql://u:***@h/d?password=***: refused (password=***, port 1)"
    assert mask_secrets(message) == message
