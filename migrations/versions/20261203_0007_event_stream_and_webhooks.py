"""the event stream, webhooks both ways, and the job queue

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 13:10:31

- ``event``: the transactional outbox every service writes in the transaction of a change;
- ``webhook_endpoint`` / ``webhook_delivery``: outbound receivers and each event's way to
  each of them; ``webhook_receipt``: inbound webhooks, stored before they are processed;
- a product's stock level gains its reorder level (``stock.low`` fires on reaching it);
- purchase orders gain the brand and model a sales office reports; an API key may speak
  for a regional office (a customer) or a manufacturer;
- procrastinate's tables and functions (the job queue), from the schema of the pinned
  procrastinate release: upgrading procrastinate means a migration running its scripts;
- the new permissions for the built-in roles of an existing database.
"""

from collections.abc import Sequence
from importlib import resources

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the permissions this revision adds, for the built-in roles that exist already
GRANTS = {
    "admin": ("event:read", "webhook:manage", "webhook:sales", "webhook:manufacturer"),
    "staff": ("event:read",),
    "accountant": ("event:read",),
    "support": ("event:read",),
    "integration": ("event:read", "webhook:sales", "webhook:manufacturer"),
    "customer": ("event:read",),
}


def _procrastinate_schema() -> str:
    return (resources.files("procrastinate.sql") / "schema.sql").read_text(encoding="utf-8")


def _run_script(script: str) -> None:
    """A multi-statement script, sent as it is (no parameter markers to interpret)."""
    driver = op.get_bind().connection.driver_connection
    assert driver is not None  # noqa: S101 - an online migration
    driver.execute(script)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("uid", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column(
            "txid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text::bigint)"),
            nullable=False,
        ),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("actor_user_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_api_key_id", sa.BigInteger(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("uid", name=op.f("uq_event_uid")),
    )
    op.create_index(
        "ix_event_customer_id_txid_id", "event", ["customer_id", "txid", "id"], unique=False
    )
    op.create_index("ix_event_feed", "event", ["txid", "id"], unique=False)
    op.create_index(op.f("ix_event_occurred_at"), "event", ["occurred_at"], unique=False)
    op.create_index(op.f("ix_event_type"), "event", ["type"], unique=False)
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "event_types",
            postgresql.ARRAY(sa.String(length=64)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("previous_secret", sa.String(length=128), nullable=True),
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "length(btrim(url)) > 0", name=op.f("ck_webhook_endpoint_url_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user.id"],
            name=op.f("fk_webhook_endpoint_created_by_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_webhook_endpoint_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoint")),
    )
    op.create_index(
        op.f("ix_webhook_endpoint_active"), "webhook_endpoint", ["active"], unique=False
    )
    op.create_index(
        op.f("ix_webhook_endpoint_created_at"), "webhook_endpoint", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_webhook_endpoint_created_by"), "webhook_endpoint", ["created_by"], unique=False
    )
    op.create_index(
        op.f("ix_webhook_endpoint_customer_id"), "webhook_endpoint", ["customer_id"], unique=False
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("endpoint_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed', 'dead')",
            name=op.f("ck_webhook_delivery_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoint.id"],
            name=op.f("fk_webhook_delivery_endpoint_id_webhook_endpoint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_webhook_delivery_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    op.create_index(
        op.f("ix_webhook_delivery_created_at"), "webhook_delivery", ["created_at"], unique=False
    )
    op.create_index(
        "ix_webhook_delivery_endpoint_id_status",
        "webhook_delivery",
        ["endpoint_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_webhook_delivery_event_id"), "webhook_delivery", ["event_id"], unique=False
    )
    op.create_table(
        "webhook_receipt",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("dedup_key", sa.String(length=300), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("api_key_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="received", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("purchase_order_id", sa.BigInteger(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "source IN ('sales', 'manufacturer')", name=op.f("ck_webhook_receipt_source_valid")
        ),
        sa.CheckConstraint(
            "status IN ('received', 'processed', 'failed')",
            name=op.f("ck_webhook_receipt_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_key.id"],
            name=op.f("fk_webhook_receipt_api_key_id_api_key"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_webhook_receipt_customer_id_customer"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["purchase_order.id"],
            name=op.f("fk_webhook_receipt_purchase_order_id_purchase_order"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_receipt")),
    )
    op.create_index(
        op.f("ix_webhook_receipt_api_key_id"), "webhook_receipt", ["api_key_id"], unique=False
    )
    op.create_index(
        op.f("ix_webhook_receipt_created_at"), "webhook_receipt", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_webhook_receipt_customer_id"), "webhook_receipt", ["customer_id"], unique=False
    )
    op.create_index(
        op.f("ix_webhook_receipt_purchase_order_id"),
        "webhook_receipt",
        ["purchase_order_id"],
        unique=False,
    )
    op.create_index(
        "uq_webhook_receipt_source_dedup_key",
        "webhook_receipt",
        ["source", "dedup_key"],
        unique=True,
    )
    op.add_column("api_key", sa.Column("customer_id", sa.BigInteger(), nullable=True))
    op.add_column("api_key", sa.Column("manufacturer", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_api_key_customer_id"), "api_key", ["customer_id"], unique=False)
    op.create_foreign_key(
        op.f("fk_api_key_customer_id_customer"),
        "api_key",
        "customer",
        ["customer_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.add_column("purchase_order", sa.Column("brand", sa.String(length=64), nullable=True))
    op.add_column("purchase_order", sa.Column("car_model", sa.String(length=100), nullable=True))
    op.create_index(op.f("ix_purchase_order_brand"), "purchase_order", ["brand"], unique=False)
    op.add_column(
        "stock_level",
        sa.Column("reorder_level", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_stock_level_reorder_level_non_negative"), "stock_level", "reorder_level >= 0"
    )
    _run_script(_procrastinate_schema())
    for role, permissions in GRANTS.items():
        for permission in permissions:
            op.execute(
                sa.text(
                    "INSERT INTO role_permission (role_id, permission) "
                    "SELECT id, :permission FROM role WHERE name = :role "
                    "ON CONFLICT DO NOTHING"
                ).bindparams(role=role, permission=permission)
            )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute(
        "DELETE FROM role_permission WHERE permission IN "
        "('event:read', 'webhook:manage', 'webhook:sales', 'webhook:manufacturer')"
    )
    # procrastinate's objects: tables first (their triggers go with them), then the rest
    _run_script(
        """
        DO $$
        DECLARE item record;
        BEGIN
            FOR item IN SELECT tablename FROM pg_tables
                WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate%'
            LOOP
                EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.tablename);
            END LOOP;
            FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'
            LOOP
                EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', item.signature);
            END LOOP;
            FOR item IN SELECT t.typname FROM pg_type t
                JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate%'
                  AND t.typtype IN ('e', 'c')
            LOOP
                EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
            END LOOP;
        END
        $$;
        """
    )
    op.drop_constraint(
        op.f("ck_stock_level_reorder_level_non_negative"), "stock_level", type_="check"
    )
    op.drop_column("stock_level", "reorder_level")
    op.drop_index(op.f("ix_purchase_order_brand"), table_name="purchase_order")
    op.drop_column("purchase_order", "car_model")
    op.drop_column("purchase_order", "brand")
    op.drop_constraint(op.f("fk_api_key_customer_id_customer"), "api_key", type_="foreignkey")
    op.drop_index(op.f("ix_api_key_customer_id"), table_name="api_key")
    op.drop_column("api_key", "manufacturer")
    op.drop_column("api_key", "customer_id")
    op.drop_index("uq_webhook_receipt_source_dedup_key", table_name="webhook_receipt")
    op.drop_index(op.f("ix_webhook_receipt_purchase_order_id"), table_name="webhook_receipt")
    op.drop_index(op.f("ix_webhook_receipt_customer_id"), table_name="webhook_receipt")
    op.drop_index(op.f("ix_webhook_receipt_created_at"), table_name="webhook_receipt")
    op.drop_index(op.f("ix_webhook_receipt_api_key_id"), table_name="webhook_receipt")
    op.drop_table("webhook_receipt")
    op.drop_index(op.f("ix_webhook_delivery_event_id"), table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_endpoint_id_status", table_name="webhook_delivery")
    op.drop_index(op.f("ix_webhook_delivery_created_at"), table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_index(op.f("ix_webhook_endpoint_customer_id"), table_name="webhook_endpoint")
    op.drop_index(op.f("ix_webhook_endpoint_created_by"), table_name="webhook_endpoint")
    op.drop_index(op.f("ix_webhook_endpoint_created_at"), table_name="webhook_endpoint")
    op.drop_index(op.f("ix_webhook_endpoint_active"), table_name="webhook_endpoint")
    op.drop_table("webhook_endpoint")
    op.drop_index(op.f("ix_event_type"), table_name="event")
    op.drop_index(op.f("ix_event_occurred_at"), table_name="event")
    op.drop_index("ix_event_feed", table_name="event")
    op.drop_index("ix_event_customer_id_txid_id", table_name="event")
    op.drop_table("event")
