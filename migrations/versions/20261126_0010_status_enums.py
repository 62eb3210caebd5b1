"""every status column checked against its vocabulary (contracts/statuses.py)

Revision ID: 0010_status_enums
Revises: 0009_processor_ledger
Create Date: 2026-11-26 17:00:00

The values are spelled here as they were when this revision was written (a migration is
history: a later change to a vocabulary is a migration of its own). Every value any
earlier version of boxoffice wrote is among them, so existing rows stay valid. SQLite
cannot add a constraint to a table: batch mode rebuilds each table with it.
"""
from alembic import op

revision = '0010_status_enums'
down_revision = '0009_processor_ledger'
branch_labels = None
depends_on = None

SAGA = ('pending', 'reserved', 'paid', 'confirmed', 'compensating', 'canceled', 'failed')
#: (table, constraint, column, allowed values)
CHECKS = [
    ('orchestration_sagas', 'ck_orchestration_sagas_status', 'status', SAGA),
    ('orchestration_saga_steps', 'ck_orchestration_saga_steps_name', 'name',
     ('reserve', 'charge', 'confirm', 'refund', 'release')),
    ('orchestration_saga_steps', 'ck_orchestration_saga_steps_status', 'status',
     ('succeeded', 'failed')),
    ('orchestration_outbox', 'ck_orchestration_outbox_kind', 'kind',
     ('purchase', 'compensate', 'completed')),
    ('payments_payments', 'ck_payments_payments_kind', 'kind', ('charge', 'refund')),
    ('payments_payments', 'ck_payments_payments_status', 'status',
     ('pending', 'succeeded', 'declined', 'voided', 'requested')),
    ('payments_processor_ledger', 'ck_payments_processor_ledger_outcome', 'outcome',
     ('succeeded', 'declined')),
    ('tickets_events', 'ck_tickets_events_status', 'status',
     ('draft', 'on_sale', 'sold_out', 'canceled')),
    ('tickets_holds', 'ck_tickets_holds_status', 'status',
     ('held', 'confirmed', 'released', 'expired', 'refused')),
    ('tickets_tickets', 'ck_tickets_tickets_status', 'status', ('valid', 'used', 'void')),
    ('users_notifications', 'ck_users_notifications_status', 'status',
     ('canceled', 'confirmed', 'failed')),
]


def _condition(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    for table, name, column, values in CHECKS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(op.f(name), _condition(column, values))


def downgrade() -> None:
    for table, name, _column, _values in reversed(CHECKS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(name), type_='check')
