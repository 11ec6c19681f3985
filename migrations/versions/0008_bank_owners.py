"""question_banks.created_by_id: who imported a bank, its owner until a contest draws from it

Revision ID: 0008_bank_owners
Revises: 0006_self_registered
Create Date: 2026-12-05 10:00:00

Banks imported before this revision keep no creator: until a contest draws from them, only
admins may change them (quizapp.policy.can_change_bank).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_bank_owners'
down_revision = '0006_self_registered'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('question_banks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(
            'ix_question_banks_created_by_id', ['created_by_id'], unique=False
        )
        batch_op.create_foreign_key(
            'fk_question_banks_created_by_id_users',
            'users',
            ['created_by_id'],
            ['id'],
            ondelete='SET NULL',
        )


def downgrade():
    with op.batch_alter_table('question_banks', schema=None) as batch_op:
        batch_op.drop_constraint('fk_question_banks_created_by_id_users', type_='foreignkey')
        batch_op.drop_index('ix_question_banks_created_by_id')
        batch_op.drop_column('created_by_id')
