"""``celery -A workers saga ...``: operator commands over the saga record."""
import json
import uuid

import click

from contracts.statuses import SagaReason, SagaStatus
from workers.steps import DomainError


def _saga_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a saga id") from None


@click.group(help="Inspect and re-drive purchase sagas.")
@click.pass_context
def saga(ctx):
    ctx.obj.app.loader.import_default_modules()


@saga.command("list")
@click.option("--status", type=click.Choice([str(s) for s in SagaStatus]))
@click.option("--limit", default=50, show_default=True)
def list_sagas(status, limit):
    """Newest sagas first, optionally of one status."""
    from workers.orchestration.queries import list_sagas as query

    for s in query(user_id=None, status=status, limit=limit):
        click.echo(f"{s['id']}  {s['status']:<12} {s['reason'] or '':<18} "
                   f"{s['quantity']} x tier {s['tier_id']}  {s['created_at']:%Y-%m-%d %H:%M:%S}")


@saga.command("show")
@click.argument("saga_id", type=_saga_id)
def show(saga_id):
    """A saga's record with its steps, as JSON."""
    from workers.orchestration.queries import get_saga

    found = get_saga(saga_id)
    if found is None:
        raise click.ClickException(f"no saga {saga_id}")
    click.echo(json.dumps(found, indent=2, default=str))


@saga.command("retry")
@click.argument("saga_id", type=_saga_id)
def retry(saga_id):
    """Re-drive an unfinished or failed saga from where it stands."""
    from workers.orchestration import service

    try:
        kind = service.retry(saga_id)
    except DomainError as exc:
        raise click.ClickException(str(exc) or type(exc).__name__) from None
    click.echo(f"saga {saga_id}: {kind} re-sent")


@saga.command("compensate")
@click.argument("saga_id", type=_saga_id)
@click.option("--reason", default=str(SagaReason.OPERATOR_CANCELED), show_default=True)
def compensate(saga_id, reason):
    """Cancel an unfinished or failed saga: refund if charged, release if reserved."""
    from workers.orchestration import service

    try:
        service.compensate(saga_id, reason=reason)
    except DomainError as exc:
        raise click.ClickException(str(exc) or type(exc).__name__) from None
    click.echo(f"saga {saga_id}: compensation sent")


def _add_dead_letter_commands():
    from workers.orchestration.dlq_cli import dlq

    saga.add_command(dlq)


_add_dead_letter_commands()
