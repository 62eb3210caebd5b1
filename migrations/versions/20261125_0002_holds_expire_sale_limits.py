"""holds expire, sale limits

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 02:28:42.542581
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_seconds', sa.Integer(), server_default='900', nullable=False))
        batch_op.add_column(sa.Column('sale_starts_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sale_ends_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('tickets_holds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expiry_sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_tickets_holds_status_expires_at', ['status', 'expires_at'], unique=False)

    with op.batch_alter_table('tickets_tiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_per_order', sa.Integer(), server_default='10', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('tickets_tiers', schema=None) as batch_op:
        batch_op.drop_column('max_per_order')

    with op.batch_alter_table('tickets_holds', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_holds_status_expires_at')
        batch_op.drop_column('expiry_sent_at')

    with op.batch_alter_table('tickets_events', schema=None) as batch_op:
        batch_op.drop_column('sale_ends_at')
        batch_op.drop_column('sale_starts_at')
        batch_op.drop_column('hold_seconds')

