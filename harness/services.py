"""Throwaway resources on the local RabbitMQ, PostgreSQL and Redis for one run (of the
tests, a benchmark or a chaos scenario).

Each run gets its own PostgreSQL database and its own RabbitMQ virtual host, so it never
touches a developer's data or queues, and drops both at the end.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBIT_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class Unavailable(Exception):
    pass


@dataclass
class TestServices:
    database: str
    vhost: str

    @property
    def database_url(self) -> str:
        return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{self.database}"

    @property
    def broker_url(self) -> str:
        return f"{RABBIT_URL}/{self.vhost}"

    redis_url = REDIS_URL


def _rabbitmqctl(*args: str) -> None:
    if shutil.which("rabbitmqctl") is None:
        raise Unavailable("rabbitmqctl not found (needed to make a throwaway vhost)")
    done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise Unavailable(f"rabbitmqctl {args[0]} failed: {done.stderr.strip()[:200]}")


def _admin_sql(statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE) as the admin."""
    import psycopg2

    conn = psycopg2.connect(PG_ADMIN_URL, connect_timeout=3)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def provision() -> TestServices:
    """Create the database and vhost; raise ``Unavailable`` saying what is missing."""
    import psycopg2
    import redis

    suffix = uuid.uuid4().hex[:10]
    services = TestServices(database=f"boxoffice_test_{suffix}", vhost=f"boxoffice-test-{suffix}")
    try:
        _admin_sql(f'CREATE DATABASE "{services.database}"')
    except psycopg2.Error as exc:
        raise Unavailable(f"PostgreSQL at {PG_ADMIN_URL}: {exc}".strip()) from exc
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        drop(services)
        raise Unavailable(f"Redis at {REDIS_URL}: {exc}") from exc
    try:
        _check_rabbit()
        _rabbitmqctl("add_vhost", services.vhost)
        _rabbitmqctl("set_permissions", "-p", services.vhost, "guest", ".*", ".*", ".*")
    except Unavailable:
        drop(services)
        raise
    return services


def _check_rabbit() -> None:
    from kombu import Connection

    try:
        with Connection(RABBIT_URL + "/", connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001
        raise Unavailable(f"RabbitMQ at {RABBIT_URL}: {exc}") from exc


def drop(services: TestServices) -> None:
    import psycopg2

    try:
        _admin_sql(f'DROP DATABASE IF EXISTS "{services.database}" WITH (FORCE)')
    except psycopg2.Error:
        pass
    try:
        _rabbitmqctl("delete_vhost", services.vhost)
    except Unavailable:
        pass
