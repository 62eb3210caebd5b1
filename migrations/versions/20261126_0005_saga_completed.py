"""SagaCompleted: outbox messages that carry their payload; buyers' notifications

Revision ID: 0005_saga_completed
Revises: 0004
Create Date: 2026-11-26 14:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005_saga_completed'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orchestration_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))
    op.create_table(
        'users_notifications',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('saga_id', sa.Uuid(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=True),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=True),
        sa.Column('ticket_ids', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_users_notifications')),
        sa.UniqueConstraint('saga_id', 'status',
                            name=op.f('uq_users_notifications_saga_id_status')),
    )
    with op.batch_alter_table('users_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_notifications_user_id'), ['user_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('users_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_notifications_user_id'))
    op.drop_table('users_notifications')
    with op.batch_alter_table('orchestration_outbox', schema=None) as batch_op:
        batch_op.drop_column('payload')
