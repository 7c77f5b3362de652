"""labelled examples for learning from moderator decisions

Revision ID: 0002_moderation
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0002_moderation'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('labelled_examples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('is_spam', sa.Boolean(), nullable=False),
    sa.Column('labelled_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_labelled_examples')),
    sa.UniqueConstraint('comment_id', name=op.f('uq_labelled_examples_comment_id'))
    )
    op.create_index('ix_labelled_examples_site_id', 'labelled_examples', ['site_id'], unique=False)


def downgrade():
    op.drop_index('ix_labelled_examples_site_id', table_name='labelled_examples')
    op.drop_table('labelled_examples')
