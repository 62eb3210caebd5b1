"""A saga keeps the trace context of the request that started it

Revision ID: 0005_traceparent
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005_traceparent'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orchestration_sagas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('traceparent', sa.String(length=55), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('orchestration_sagas', schema=None) as batch_op:
        batch_op.drop_column('traceparent')
