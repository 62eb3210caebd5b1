"""an index of sagas by event, in id order: cancelling an event reads its sagas in batches

Revision ID: 0011_saga_event_index
Revises: 0010_status_enums
Create Date: 2026-11-26 23:15:00

Without it each batch of an event's cancellation scanned every saga of every event.
"""
from alembic import op

revision = '0011_saga_event_index'
down_revision = '0010_status_enums'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_orchestration_sagas_event_id_id', 'orchestration_sagas',
                    ['event_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_orchestration_sagas_event_id_id', table_name='orchestration_sagas')
