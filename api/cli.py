"""Operator commands: ``flask --app api keys|users|db ...``."""
from __future__ import annotations

import os
import secrets

import click
from flask.cli import AppGroup

from settings import DEV_JWT_SECRET, ROOT
from workers import runtime
from workers.steps import DomainError
from workers.users import service as users

keys = AppGroup("keys", help="API keys of client applications.")
user_cmds = AppGroup("users", help="User accounts.")
db = AppGroup("db", help="Database schema.")


@keys.command("create")
@click.argument("name")
def create_key(name):
    """Issue a key for client NAME and print it (only its hash is kept)."""
    try:
        click.echo(users.create_api_key(name))
    except DomainError:
        raise click.ClickException(f"a key named {name!r} exists; revoke it or pick another name")


@keys.command("revoke")
@click.argument("name")
def revoke_key(name):
    """Revoke client NAME's key at once."""
    try:
        users.revoke_api_key(name)
    except DomainError:
        raise click.ClickException(f"no active key named {name!r}")
    click.echo(f"revoked {name}")


@user_cmds.command("create-admin")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default="Administrator")
def create_admin(email, password, name):
    """Create (or promote) the admin account EMAIL."""
    if len(password) < 8:
        raise click.ClickException("the password needs 8 characters or more")
    user = users.create_admin(email=email, password=password, name=name)
    click.echo(f"admin {user['email']} ({user['id']})")


@user_cmds.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(["buyer", "organizer", "staff", "admin"]))
def set_role(email, role):
    """Give account EMAIL a role."""
    try:
        users.set_role(email=email, role=role)
    except DomainError:
        raise click.ClickException(f"no account {email}")
    click.echo(f"{email} is now {role}")


def migrate() -> None:
    from alembic import command
    from alembic.config import Config

    command.upgrade(Config(str(ROOT / "alembic.ini")), "head")


@db.command("upgrade")
def upgrade():
    """Bring the schema up to date (safe on an empty database)."""
    migrate()
    click.echo("database schema is up to date")


@click.command("dev-setup")
@click.option("--key-only", is_flag=True, help="print only the development API key")
def dev_setup(key_only):
    """Migrate, and in development print the URLs and a development API key."""
    settings = runtime.settings()
    if not key_only:
        migrate()
    if settings.env == "production":
        return
    key_file = settings.var_dir / "dev-api-key"
    key = key_file.read_text().strip() if key_file.exists() else ""
    if not users.api_key_client(key):
        key = users.create_api_key(f"development-{secrets.token_hex(4)}")
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(key + "\n")
    if key_only:
        click.echo(key)
        return
    port, flower = os.environ.get("BOXOFFICE_PORT", "8000"), os.environ.get("FLOWER_PORT", "5555")
    mode = "embedded (SQLite + spool broker)" if settings.embedded_broker else settings.broker_url
    from workers.flower_auth import credentials

    login = settings.flower_basic_auth and "from FLOWER_BASIC_AUTH" or credentials(settings)[0]
    click.echo(BANNER.format(port=port, flower=flower, key=key, mode=mode, var=settings.var_dir,
                             flower_login=login))
    if settings.jwt_secret_key == DEV_JWT_SECRET:
        click.secho(DEV_SECRET_WARNING, fg="red", bold=True)


BANNER = """
boxoffice is starting ({mode}; state in {var})
  gateway   http://127.0.0.1:{port}      (API docs: http://127.0.0.1:{port}/docs)
  dashboard http://127.0.0.1:{port}/dashboard (an admin's email and password)
  flower    http://127.0.0.1:{flower}      (user:password {flower_login})
  API key   {key}
            send it as the X-API-Key header; a scripted purchase: make demo
"""


DEV_SECRET_WARNING = """
!!! DEVELOPMENT MODE: tokens are signed with the PUBLIC development secret. !!!
!!! Anyone can forge any token here, an admin's too. Never let real users   !!!
!!! near this stack: run with BOXOFFICE_ENV=production and your own secrets.!!!
"""


def register_commands(app) -> None:
    for command in (keys, user_cmds, db, dev_setup):
        app.cli.add_command(command)
