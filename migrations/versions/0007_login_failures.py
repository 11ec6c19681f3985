"""login_failures: rate-limit counters in the database, shared by every worker; spent
one-time tokens (a first-passwords download works once)

Revision ID: 0007_login_failures
Revises: 0008_bank_owners
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_login_failures'
down_revision = '0008_bank_owners'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'rate_limit_hits',
        sa.Column(
            'id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False
        ),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('expires_at', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('rate_limit_hits', schema=None) as batch_op:
        batch_op.create_index(
            'ix_rate_limit_hits_key_expires_at', ['key', 'expires_at'], unique=False
        )
        batch_op.create_index('ix_rate_limit_hits_expires_at', ['expires_at'], unique=False)
    op.create_table(
        'spent_tokens',
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('purpose', sa.String(length=32), nullable=False),
        sa.Column('spent_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('digest'),
    )
    with op.batch_alter_table('spent_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_spent_tokens_spent_at', ['spent_at'], unique=False)


def downgrade():
    with op.batch_alter_table('spent_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_spent_tokens_spent_at')
    op.drop_table('spent_tokens')
    with op.batch_alter_table('rate_limit_hits', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_limit_hits_expires_at')
        batch_op.drop_index('ix_rate_limit_hits_key_expires_at')
    op.drop_table('rate_limit_hits')
