"""self_registered: accounts made by their owners at /register (a roster adopts them only on HR's word)

Revision ID: 0006_self_registered
Revises: 0005_session_epoch
Create Date: 2026-11-25 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_self_registered'
down_revision = '0005_session_epoch'
branch_labels = None
depends_on = None


def upgrade():
    # Accounts that exist today are left unmarked: which of them their owners registered cannot be
    # told afterwards (the audit log's user.create entries carry no actor for both kinds).
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('self_registered', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('self_registered')
