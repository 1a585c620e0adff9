"""The fixed content of the demo data set (names, places, products, the known records) and
the containers :mod:`opsgraph.seed.demo_plan` fills with rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

SEED: Final = 20261122
# The demo timeline: orders run from START for about nine months; nothing is after TODAY.
START: Final = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
TODAY: Final = dt.date(2026, 11, 20)
TAX_RATE: Final = Decimal("0.25")

EXTRA_CUSTOMERS: Final = 30
ORDERS: Final = 60
TICKETS: Final = 18

# The records users of the old mock API know, by their external ids.
KNOWN_CUSTOMERS: Final = (
    # external_id, name, email, phone, org_no, (label, street, postal code, city)
    (
        "C-100",
        "Maskad Kund AB",
        "kontakt@maskadkund.se",
        "+46 8 555 010 00",
        "556677-8899",
        ("Kvarter A", "Sveavägen 44", "111 34", "Stockholm"),
    ),
    (
        "C-101",
        "Fikafabriken",
        "hej@fikafabriken.se",
        "+46 31 555 020 00",
        "559012-3456",
        ("Fasad del B", "Kungsportsavenyen 12", "411 36", "Göteborg"),
    ),
)

# external_id, customer external_id, source, state, description, amount, state_version
KNOWN_PURCHASE_ORDERS: Final = (
    ("PO-200", "C-100", "Region Nord", "approved", "Snöröjning kvarter A", "12500.00", 2),
    ("PO-201", "C-101", "Region Syd", "received", "Fasadtvätt del B", "8400.00", 1),
)
# state, state_version (received=1, approved=2, in_progress=3, completed=4; cancelled: +1)
EXTRA_PURCHASE_ORDER_STATES: Final = (
    ("in_progress", 3),
    ("completed", 4),
    ("cancelled", 2),
    ("approved", 2),
    ("received", 1),
    ("completed", 4),
)
PURCHASE_ORDER_SOURCES: Final = ("Region Nord", "Region Syd", "Region Väst", "ERP")
PURCHASE_ORDER_WORK: Final = (
    "Takskottning",
    "Trappstädning",
    "Gräsklippning säsong",
    "Lövblåsning höst",
    "Byte av belysning",
    "Fönsterputs",
    "Sandning gångvägar",
)

NAME_FIRST: Final = (
    "Norrlands",
    "Göta",
    "Vätterns",
    "Mälardalens",
    "Skånska",
    "Dalarnas",
    "Kustens",
    "Sörmlands",
    "Roslagens",
    "Upplands",
    "Värmlands",
    "Hallands",
    "Östgöta",
    "Smålands",
    "Jämtlands",
)
# The first word of each suffix is unique: it makes the e-mail domain.
NAME_SUFFIX: Final = (
    "Bygg AB",
    "Fastigheter AB",
    "Elservice AB",
    "Städ & Fönster AB",
    "Måleri AB",
    "Trädgård AB",
    "Bageri AB",
    "Snickeri AB",
    "Åkeri AB",
)
# city, postal code prefix (3 digits), telephone area code
CITIES: Final = (
    ("Stockholm", "113", "8"),
    ("Göteborg", "413", "31"),
    ("Malmö", "214", "40"),
    ("Uppsala", "753", "18"),
    ("Umeå", "903", "90"),
    ("Luleå", "972", "920"),
    ("Sundsvall", "852", "60"),
    ("Örebro", "702", "19"),
    ("Linköping", "582", "13"),
    ("Västerås", "722", "21"),
    ("Gävle", "803", "26"),
    ("Jönköping", "553", "36"),
)
STREETS: Final = (
    "Storgatan",
    "Kungsgatan",
    "Drottninggatan",
    "Järnvägsgatan",
    "Skolgatan",
    "Industrivägen",
    "Hamngatan",
    "Torggatan",
    "Björkvägen",
    "Ekvägen",
)
PROPERTY_LABELS: Final = ("Huvudkontor", "Lager", "Butik", "Verkstad", "Kvarter A", "Kvarter B")

# sku, name, unit price, initial stock
PRODUCTS: Final = (
    ("SNOW-SHOVEL-01", "Snöskyffel", "349.00", 120),
    ("SALT-25KG", "Vägsalt 25 kg", "189.00", 300),
    ("GRIT-25KG", "Halkgrus 25 kg", "99.00", 250),
    ("ICE-SCRAPER-02", "Isskrapa", "59.00", 150),
    ("LED-FLOOD-50W", "LED-strålkastare 50 W", "799.00", 80),
    ("FACADE-CLEAN-5L", "Fasadtvätt 5 l", "429.00", 140),
    ("PRESSURE-NOZZLE", "Högtrycksmunstycke", "249.00", 90),
    ("WORK-GLOVES-L", "Arbetshandskar stl L", "89.00", 200),
    ("SAFETY-VEST", "Varselväst", "129.00", 160),
    ("TRIMMER-LINE-24", "Trimmertråd 2,4 mm", "159.00", 110),
    ("LEAF-RAKE", "Lövräfsa", "199.00", 100),
    ("DRAIN-CLEANER-1L", "Avloppsrensare 1 l", "119.00", 130),
)
# product index, delta, reason, note, day of the year
STOCK_EVENTS: Final = (
    (1, 100, "receipt", "Leverans från grossist", 40),
    (2, 80, "receipt", "Leverans från grossist", 45),
    (7, 60, "receipt", "Leverans från grossist", 120),
    (4, -2, "adjustment", "Inventering: två skadade", 150),
    (8, -1, "adjustment", "Inventering: en saknas", 200),
)

# Service invoices without an order: what, price.
SERVICES: Final = (
    ("Snöröjning", "4800.00"),
    ("Fastighetsskötsel", "3200.00"),
    ("Trappstädning", "1850.00"),
    ("Fönsterputs", "2400.00"),
)
# description, amount, day of the year; kind expense unless named
EXPENSES: Final = (
    ("Hyra lokal januari", "18500.00", 5),
    ("Diesel", "4210.50", 33),
    ("Vägsalt, grossistinköp", "9900.00", 41),
    ("Försäkring helår", "12400.00", 60),
    ("Hyra lokal juli", "18500.00", 186),
    ("Serviceavtal fordon", "6350.00", 220),
)
TRANSFER: Final = ("Överföring till sparkonto", "25000.00", 240)

TICKET_SUBJECTS: Final = (
    "Snö ligger kvar vid entrén",
    "Faktura saknar referens",
    "Belysning i trapphus trasig",
    "Önskar offert på fasadtvätt",
    "Halka på parkeringen",
    "Fel leveransadress på order",
    "Läckage i tvättstugan",
    "Fråga om serviceavtal",
    "Grus kvar efter vintern",
)
TIME_NOTES: Final = ("Platsbesök", "Telefonsamtal med kund", "Åtgärdat på plats", "Dokumentation")
ENTRY_MINUTES: Final = (15, 30, 45, 60, 90, 120, 180)
PAYMENT_METHODS: Final = ("bank_transfer", "bank_transfer", "card", "cash", "other")

# username, e-mail, full name, role
DEMO_USERS: Final = (
    ("admin", "admin@opsgraph.example.com", "Demo Admin", "admin"),
    ("staff", "staff@opsgraph.example.com", "Demo Staff", "staff"),
)


# ---- rows ------------------------------------------------------------------------------

Row = dict[str, Any]
CENT: Final = Decimal("0.01")


@dataclass(frozen=True)
class Ref:
    """The id of another planned row: ``table`` and its position there (users: username)."""

    table: str
    key: int | str


ADMIN: Final = Ref("user", "admin")
STAFF: Final = Ref("user", "staff")


def money(value: Decimal | str | int) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def with_tax(subtotal: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """subtotal, tax, total: the tax rounded to the cent, the total their exact sum."""
    tax = money(subtotal * TAX_RATE)
    return subtotal, tax, subtotal + tax


@dataclass
class DemoPlan:
    """Rows per table, in an order that satisfies the foreign keys."""

    tables: dict[str, list[Row]] = field(default_factory=dict)

    def rows(self, table: str) -> list[Row]:
        return self.tables.setdefault(table, [])

    def add(self, table: str, **row: Any) -> int:
        rows = self.rows(table)
        rows.append(row)
        return len(rows) - 1
