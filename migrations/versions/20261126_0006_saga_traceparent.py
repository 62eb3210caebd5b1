"""A saga keeps the trace context of the request that started it

Revision ID: 0006_traceparent
Revises: 0005_saga_completed
"""
from alembic import op
import sqlalchemy as sa

revision = '0006_traceparent'
down_revision = '0005_saga_completed'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orchestration_sagas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('traceparent', sa.String(length=55), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('orchestration_sagas', schema=None) as batch_op:
        batch_op.drop_column('traceparent')
