"""/readyz says which part is down, never why (that goes to the log), and reuses its
connections from one probe to the next."""
import logging

from sqlalchemy import create_engine

from workers import health


def test_a_part_that_is_down_is_named_without_its_exception_text(api, monkeypatch, caplog):
    dead = create_engine("postgresql://postgres@127.0.0.1:9/none",
                         connect_args={"connect_timeout": 2})
    monkeypatch.setattr(health, "engine", lambda: dead)

    with caplog.at_level(logging.WARNING, logger="workers.health"):
        r = api.client.get("/readyz")

    assert r.status_code == 503
    assert r.get_json() == {"status": "unavailable",
                            "checks": {"database": "down", "broker": "ok", "redis": "ok"}}
    assert "database is down: OperationalError" in caplog.text


def test_probes_reuse_the_broker_connection_and_the_redis_client(api):
    from workers import app

    assert api.client.get("/readyz").get_json()["checks"]["broker"] == "ok"
    with app.pool.acquire(block=True, timeout=2) as conn:
        first = conn.connection
    client = next(iter(health._redis.values()))

    for _ in range(3):
        assert api.client.get("/readyz").status_code == 200

    with app.pool.acquire(block=True, timeout=2) as conn:
        assert conn.connection is first
    assert list(health._redis.values()) == [client]
