"""users: a token generation per account, so a password change ends every session

Revision ID: 0008_token_generation
Revises: 0007_outbox_tasks
Create Date: 2026-11-26 14:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0008_token_generation'
down_revision = '0007_outbox_tasks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_generation', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users_users', schema=None) as batch_op:
        batch_op.drop_column('token_generation')
