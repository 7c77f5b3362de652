"""learned spam models kept in the database, shared by workers on every machine

Revision ID: 0004_learned_models
Revises: 0002_moderation, 0003_webhooks
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_learned_models'
# Also merges the moderation and webhook branches.
down_revision = ('0002_moderation', '0003_webhooks')
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('learned_spam_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decisions_learned', sa.Integer(), nullable=False),
    sa.Column('examples', sa.Integer(), nullable=False),
    sa.Column('blob', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learned_spam_models')),
    sqlite_autoincrement=True
    )


def downgrade():
    op.drop_table('learned_spam_models')
