"""``celery -A workers saga dlq ...``: look into, replay and purge the dead-letter queues."""
import json

import click

from workers import deadletters


def _queue(value: str) -> str:
    try:
        return deadletters.dead_queue(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _connect():
    try:
        return deadletters.DeadLetters().__enter__()
    except Exception as exc:  # noqa: BLE001  say it plainly, no traceback
        raise click.ClickException(f"cannot reach the broker: {type(exc).__name__}: {exc}") from None


@click.group(help="Dead-letter queues: list, show, replay, purge.")
def dlq():
    pass


@dlq.command("list")
@click.argument("queue", required=False)
def list_queues(queue):
    """Each dead-letter queue (or QUEUE's) with its depth."""
    queues = [_queue(queue)] if queue else deadletters.all_queues()
    dl = _connect()
    try:
        for name in queues:
            click.echo(f"{name:<22} {dl.store.depth(name)}")
    finally:
        dl.__exit__(None, None, None)


@dlq.command("show")
@click.argument("queue")
@click.argument("count", type=click.IntRange(min=1), default=10)
def show(queue, count):
    """The first COUNT dead letters of QUEUE (they stay where they are)."""
    name = _queue(queue)
    dl = _connect()
    try:
        letters = dl.show(name, count)
    finally:
        dl.__exit__(None, None, None)
    if not letters:
        click.echo(f"{name}: empty")
    for letter in letters:
        state = "valid" if letter.valid else f"invalid: {letter.error}"
        click.echo(f"{letter.id}  task={letter.task}  reason={letter.reason}  {state}")
        if letter.args is not None:
            click.echo("    args " + json.dumps(letter.args, default=str)[:500])


@dlq.command("replay")
@click.argument("queue")
@click.argument("message_id", required=False)
@click.option("--all", "everything", is_flag=True, help="replay every valid dead letter")
def replay(queue, message_id, everything):
    """Send MESSAGE_ID (or --all) back to its queue, if it is still a valid message."""
    if bool(message_id) == everything:
        raise click.UsageError("give one MESSAGE_ID or --all")
    name = _queue(queue)
    dl = _connect()
    try:
        done = dl.replay(name, None if everything else {message_id})
    finally:
        dl.__exit__(None, None, None)
    if message_id and not done:
        raise click.ClickException(f"no dead letter {message_id} in {name}")
    for letter, replayed in done:
        if replayed:
            click.echo(f"replayed {letter.id} ({letter.task}) to {name[:-5]}")
        else:
            click.echo(f"kept {letter.id} in {name}: {letter.error}")
    click.echo(f"{sum(1 for _, ok in done if ok)} replayed, "
               f"{sum(1 for _, ok in done if not ok)} left dead")


@dlq.command("purge")
@click.argument("queue")
@click.option("--yes", is_flag=True, help="do not ask")
def purge(queue, yes):
    """Delete every dead letter of QUEUE."""
    name = _queue(queue)
    if not yes:
        click.confirm(f"delete every message of {name}?", abort=True)
    dl = _connect()
    try:
        removed = dl.purge(name)
    finally:
        dl.__exit__(None, None, None)
    click.echo(f"purged {removed} message(s) from {name}")
