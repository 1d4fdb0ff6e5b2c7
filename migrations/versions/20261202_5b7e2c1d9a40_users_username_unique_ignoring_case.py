"""users: usernames unique whatever their case (logins ignore it)

Revision ID: 5b7e2c1d9a40
Revises: 836eb9894d2a
Create Date: 2026-12-02 08:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b7e2c1d9a40'
down_revision = '836eb9894d2a'
branch_labels = None
depends_on = None


def upgrade():
    clashes = op.get_bind().execute(sa.text(
        "SELECT lower(username) FROM users GROUP BY lower(username) HAVING count(*) > 1"
    )).scalars().all()
    if clashes:
        raise RuntimeError(
            "These usernames exist in more than one spelling of case: "
            + ", ".join(clashes) + ". Rename all but one of each, then upgrade again.")
    op.create_index('uq_users_username_lower', 'users', [sa.text('lower(username)')],
                    unique=True)


def downgrade():
    op.drop_index('uq_users_username_lower', table_name='users')
