"""partial index on pending comments, so a worker's claim reads only the queue

Revision ID: 0005_pending_index
Revises: 0004_learned_models
"""
import sqlalchemy as sa
from alembic import op

revision = '0005_pending_index'
down_revision = '0004_learned_models'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade():
    op.create_index('ix_comments_pending_id', 'comments', ['id'],
                    postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade():
    op.drop_index('ix_comments_pending_id', table_name='comments')
