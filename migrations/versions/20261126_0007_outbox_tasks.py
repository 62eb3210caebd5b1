"""The outbox of plain task messages (anonymisation, event cancellation, TicketUsed)

Revision ID: 0007_outbox_tasks
Revises: 0006_traceparent
Create Date: 2026-11-26 15:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0007_outbox_tasks'
down_revision = '0006_traceparent'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outbox_tasks',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('task', sa.String(length=100), nullable=False),
        sa.Column('args', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_tasks')),
    )
    with op.batch_alter_table('outbox_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_tasks_unsent', ['sent_at', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_tasks_unsent')
    op.drop_table('outbox_tasks')
