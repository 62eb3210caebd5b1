"""the payment processor simulator's ledger of charges by idempotency key

Revision ID: 0009_processor_ledger
Revises: 0008_token_generation
Create Date: 2026-11-26 14:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0009_processor_ledger'
down_revision = '0008_token_generation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payments_processor_ledger',
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('decline_code', sa.String(length=40), nullable=True),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('idempotency_key', name=op.f('pk_payments_processor_ledger'))
    )


def downgrade() -> None:
    op.drop_table('payments_processor_ledger')
