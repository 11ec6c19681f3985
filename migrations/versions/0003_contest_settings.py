"""contest settings: who has entered a contest's password

Revision ID: 0003_contest_settings
Revises: 0004_round_results
Create Date: 2026-11-24 09:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_contest_settings'
down_revision = '0004_round_results'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contest_access',
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contest_id', 'user_id')
    )
    with op.batch_alter_table('contest_access', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_access_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('contest_access', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_access_user_id'))

    op.drop_table('contest_access')
