"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 02:08:00.885442
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('orchestration_outbox',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('saga_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orchestration_outbox'))
    )
    with op.batch_alter_table('orchestration_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orchestration_outbox_saga_id'), ['saga_id'], unique=False)
        batch_op.create_index('ix_orchestration_outbox_unsent', ['sent_at', 'created_at'], unique=False)

    op.create_table('orchestration_sagas',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('tier_id', sa.Uuid(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('payment_token', sa.String(length=200), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orchestration_sagas')),
    sa.UniqueConstraint('user_id', 'idempotency_key', name=op.f('uq_orchestration_sagas_user_id_idempotency_key'))
    )
    with op.batch_alter_table('orchestration_sagas', schema=None) as batch_op:
        batch_op.create_index('ix_orchestration_sagas_status_id', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orchestration_sagas_user_id'), ['user_id'], unique=False)

    op.create_table('payments_payments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('saga_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decline_code', sa.String(length=40), nullable=True),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments_payments')),
    sa.UniqueConstraint('saga_id', 'kind', name=op.f('uq_payments_payments_saga_id_kind'))
    )
    op.create_table('tickets_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('venue', sa.String(length=200), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets_events'))
    )
    op.create_table('users_api_keys',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_users_api_keys_key_hash')),
    sa.UniqueConstraint('name', name=op.f('uq_users_api_keys_name'))
    )
    op.create_table('users_revoked_tokens',
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('jti', name=op.f('pk_users_revoked_tokens'))
    )
    op.create_table('users_users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_users_email'))
    )
    op.create_table('orchestration_saga_steps',
    sa.Column('saga_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['saga_id'], ['orchestration_sagas.id'], name=op.f('fk_orchestration_saga_steps_saga_id_orchestration_sagas')),
    sa.PrimaryKeyConstraint('saga_id', 'name', name=op.f('pk_orchestration_saga_steps'))
    )
    op.create_table('tickets_tiers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('available', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('available >= 0 AND available <= capacity', name=op.f('ck_tickets_tiers_available_in_range')),
    sa.CheckConstraint('price_cents >= 0', name=op.f('ck_tickets_tiers_price_not_negative')),
    sa.ForeignKeyConstraint(['event_id'], ['tickets_events.id'], name=op.f('fk_tickets_tiers_event_id_tickets_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets_tiers'))
    )
    with op.batch_alter_table('tickets_tiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_tiers_event_id'), ['event_id'], unique=False)

    op.create_table('tickets_holds',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('saga_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('tier_id', sa.Uuid(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tier_id'], ['tickets_tiers.id'], name=op.f('fk_tickets_holds_tier_id_tickets_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets_holds')),
    sa.UniqueConstraint('saga_id', name=op.f('uq_tickets_holds_saga_id'))
    )
    with op.batch_alter_table('tickets_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_holds_tier_id'), ['tier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_holds_user_id'), ['user_id'], unique=False)

    op.create_table('tickets_tickets',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('hold_id', sa.Uuid(), nullable=False),
    sa.Column('saga_id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('tier_id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hold_id'], ['tickets_holds.id'], name=op.f('fk_tickets_tickets_hold_id_tickets_holds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets_tickets')),
    sa.UniqueConstraint('code', name=op.f('uq_tickets_tickets_code'))
    )
    with op.batch_alter_table('tickets_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_tickets_hold_id'), ['hold_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_tickets_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_tickets_saga_id'), ['saga_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tickets_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_tickets_saga_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_tickets_owner_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_tickets_hold_id'))

    op.drop_table('tickets_tickets')
    with op.batch_alter_table('tickets_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_holds_user_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_holds_tier_id'))

    op.drop_table('tickets_holds')
    with op.batch_alter_table('tickets_tiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_tiers_event_id'))

    op.drop_table('tickets_tiers')
    op.drop_table('orchestration_saga_steps')
    op.drop_table('users_users')
    op.drop_table('users_revoked_tokens')
    op.drop_table('users_api_keys')
    op.drop_table('tickets_events')
    op.drop_table('payments_payments')
    with op.batch_alter_table('orchestration_sagas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orchestration_sagas_user_id'))
        batch_op.drop_index('ix_orchestration_sagas_status_id')

    op.drop_table('orchestration_sagas')
    with op.batch_alter_table('orchestration_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_orchestration_outbox_unsent')
        batch_op.drop_index(batch_op.f('ix_orchestration_outbox_saga_id'))

    op.drop_table('orchestration_outbox')
