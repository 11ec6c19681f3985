"""round_results: each person's counted entry per round, kept by the scoring service

Revision ID: 0004_round_results
Revises: 0002_roster
Create Date: 2026-11-24 09:50:00

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_round_results'
down_revision = '0002_roster'
branch_labels = None
depends_on = None

NO_PREDICTION = 2**62
DEFAULT_RANKING = ["score", "prediction", "duration", "submitted_at", "attempt_id"]


def upgrade():
    op.create_table(
        'round_results',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('attempt_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('max_score', sa.Integer(), nullable=False),
        sa.Column('duration', sa.Float(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('prediction', sa.Integer(), nullable=True),
        sa.Column('prediction_error', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('round_id', 'user_id', name='uq_round_result_person'),
    )
    with op.batch_alter_table('round_results', schema=None) as batch_op:
        batch_op.create_index('ix_round_results_user_id', ['user_id'], unique=False)
        batch_op.create_index(
            'ix_round_results_board',
            ['round_id', sa.text('score DESC'), 'duration', 'submitted_at', 'attempt_id'],
            unique=False,
        )
        batch_op.create_index(
            'ix_round_results_final_board',
            ['round_id', sa.text('score DESC'), 'prediction_error', 'duration', 'submitted_at',
             'attempt_id'],
            unique=False,
        )
    _backfill()


def _backfill():
    """Each round's counted entries from its finished attempts, as rebuild_results derives them."""
    bind = op.get_bind()
    rounds = bind.execute(sa.text(
        "SELECT rounds.id, rounds.counting, rounds.prediction_actual, contests.ranking "
        "FROM rounds JOIN contests ON contests.id = rounds.contest_id"
    )).all()
    for round_id, counting, actual, ranking in rounds:
        if isinstance(ranking, str):
            ranking = json.loads(ranking)
        error = (
            "CAST(NULL AS BIGINT)" if actual is None
            else f"CASE WHEN prediction IS NULL THEN {NO_PREDICTION} "
                 f"ELSE abs(prediction - {int(actual)}) END"
        )
        columns = {
            "score": "score DESC",
            "prediction": f"{error} ASC",
            "duration": "duration ASC",
            "submitted_at": "submitted_at ASC",
        }
        steps = [s for s in (ranking or DEFAULT_RANKING) if s in columns]
        if actual is None:
            steps = [s for s in steps if s != "prediction"]
        order = {
            "last": "submitted_at DESC, id DESC",
            "first": "submitted_at ASC, id ASC",
        }.get(counting, ", ".join([*(columns[s] for s in steps), "id ASC"]))
        bind.execute(sa.text(
            "INSERT INTO round_results (round_id, user_id, attempt_id, score, max_score, "
            "duration, submitted_at, prediction, prediction_error) "
            "SELECT round_id, user_id, id, score, max_score, duration, submitted_at, prediction, "
            "prediction_error FROM ("
            f"  SELECT attempts.*, {error} AS prediction_error, "
            f"  row_number() OVER (PARTITION BY user_id ORDER BY {order}) AS pick "
            "  FROM attempts WHERE round_id = :round_id "
            "  AND status IN ('submitted', 'expired')"
            ") AS ranked WHERE pick = 1"
        ), {"round_id": round_id})


def downgrade():
    with op.batch_alter_table('round_results', schema=None) as batch_op:
        batch_op.drop_index('ix_round_results_final_board')
        batch_op.drop_index('ix_round_results_board')
        batch_op.drop_index('ix_round_results_user_id')
    op.drop_table('round_results')
