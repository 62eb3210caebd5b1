"""ticket checkin

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 02:32:39.714582
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets_tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('used_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('used_by', sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets_tickets', schema=None) as batch_op:
        batch_op.drop_column('used_by')
        batch_op.drop_column('used_at')
