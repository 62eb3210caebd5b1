"""Importing the product builds nothing: no connection, no password hash, no engine.

Every module of ``api`` and ``workers`` is imported in a fresh interpreter whose database,
broker and Redis URLs point at an address nothing answers on; socket connects, argon2
hashing and SQLAlchemy engine creation are recorded (and connects refused) in that child.
The composition roots themselves (``bootstrap``, ``create_app``), run afterwards, build their
parts without connecting or hashing either: connections are made on first use.
"""
import json
import os
import subprocess
import sys
import textwrap

#: TEST-NET-1 (RFC 5737): never routed, so a connect would hang, not fail fast
NOWHERE = "192.0.2.1"

CHILD = textwrap.dedent("""
    import json, pkgutil, importlib, socket, sys
    import argon2, sqlalchemy

    seen = {"connect": [], "hash": 0, "engine": 0}

    def connect(self, address, *args):
        seen["connect"].append(repr(address))
        raise ConnectionRefusedError("no connection at import time")

    real_hash, real_engine = argon2.PasswordHasher.hash, sqlalchemy.create_engine

    def hash_(self, *args, **kwargs):
        seen["hash"] += 1
        return real_hash(self, *args, **kwargs)

    def create_engine(*args, **kwargs):
        seen["engine"] += 1
        return real_engine(*args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect
    argon2.PasswordHasher.hash = hash_
    sqlalchemy.create_engine = create_engine

    import api, workers
    from workers import runtime
    names = ["celeryconfig", "settings"]
    for package in (api, workers):
        names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    for name in names:
        importlib.import_module(name)
    after_import = {**seen, "connect": list(seen["connect"]), "modules": len(names),
                    "root_ran": runtime.installed()}

    from api import create_app
    from workers.bootstrap import bootstrap
    settings = bootstrap()  # the root of a worker process
    create_app()  # the gateway's
    after_root = {**seen, "database": settings.database_url}
    print(json.dumps({"import": after_import, "root": after_root}))
""")


def _run_child(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CELERY_", "OTEL_")) and k != "BOXOFFICE_TRACE_FILE"}
    env.update(BOXOFFICE_VAR_DIR=str(tmp_path), BOXOFFICE_ENV="development",
               DATABASE_URL=f"postgresql://nobody@{NOWHERE}:5432/nothing",
               CELERY_BROKER_URL=f"amqp://guest:guest@{NOWHERE}:5672//",
               REDIS_URL=f"redis://{NOWHERE}:6379/0")
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_every_module_connects_nowhere_hashes_nothing_and_builds_no_engine(tmp_path):
    seen = _run_child(tmp_path)

    imported = seen["import"]
    assert imported["modules"] > 50  # every module of api and workers was imported
    assert imported["connect"] == []
    assert imported["hash"] == 0
    assert imported["engine"] == 0
    assert imported["root_ran"] is False  # nothing built before a root asks

    built = seen["root"]
    assert built["database"].endswith(f"@{NOWHERE}:5432/nothing")
    assert (built["connect"], built["hash"], built["engine"]) == ([], 0, 0)
