"""saga watchdog: re-drive counter, index on status and last progress

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 02:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orchestration_sagas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redrives', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_orchestration_sagas_status_updated_at',
                              ['status', 'updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('orchestration_sagas', schema=None) as batch_op:
        batch_op.drop_index('ix_orchestration_sagas_status_updated_at')
        batch_op.drop_column('redrives')
