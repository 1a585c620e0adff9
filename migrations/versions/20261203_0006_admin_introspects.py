"""the built-in admin role may introspect the schema in production

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:30:00

Introspection needs ``schema:introspect`` in production. New databases give it to the
built-in ``admin`` role with all other permissions; an existing ``admin`` role gets it here.
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        "INSERT INTO role_permission (role_id, permission) "
        "SELECT id, 'schema:introspect' FROM role WHERE name = 'admin' "
        "ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DELETE FROM role_permission WHERE permission = 'schema:introspect'")
