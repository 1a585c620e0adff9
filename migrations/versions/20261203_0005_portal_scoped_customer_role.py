"""the built-in customer role is portal-scoped

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:50:00

Portal scoping follows from the ``portal:scoped`` permission of a role, no longer from a
user's link to a customer. An existing built-in ``customer`` role gets it here (new
databases get it with the built-in roles), so its holders stay scoped.
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(
        "INSERT INTO role_permission (role_id, permission) "
        "SELECT id, 'portal:scoped' FROM role WHERE name = 'customer' "
        "ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DELETE FROM role_permission WHERE permission = 'portal:scoped'")
