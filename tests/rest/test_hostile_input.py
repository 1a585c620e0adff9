"""Hostile input values: NUL and unpaired surrogates in any string argument, literal or
variable, at any depth; dates and timestamps out of range; money in odd notations. Each
is a typed error naming what was wrong, never "Unexpected error.", and nothing is read
or written."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.models import Customer, IdempotencyKey, Payment
from tests.mutations.helpers import gid
from tests.mutations.test_customer import make_customer, make_invoice

GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}
NUL = "a\x00b"
SURROGATE = "x\ud800y"
SEARCH = "query($s: String) { customers(filter: {search: $s}) { totalCount } }"
CREATE = """mutation($input: CustomerCreateInput!) { customerCreate(input: $input) {
  customer { id } errors { code } } }"""
PAY = """mutation($input: PaymentRecordInput!) { paymentRecord(input: $input) {
  payment { amount } errors { code field message } } }"""


async def post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, **extra: Any
) -> httpx.Response:
    """POST with the body encoded as ASCII JSON, so that a lone surrogate travels as the
    escape ``\\ud800`` (httpx's own encoder would refuse it)."""
    body = json.dumps({"query": query, "variables": variables or {}, **extra})
    return await http.post(
        "/graphql",
        content=body.encode("ascii"),
        headers={
            "Content-Type": "application/json",
            "X-Opsgraph-Statements": "1",
            **GRAPHQL_RESPONSE,
        },
    )


def refused(response: httpx.Response, code: str = "BAD_USER_INPUT") -> dict[str, Any]:
    """A request error with ``code``: status 400, no data, no SQL statement run."""
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == code, error
    assert body["extensions"]["sqlStatements"] == 0
    return error  # type: ignore[no-any-return]


async def customers(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Customer)) or 0


@pytest.mark.parametrize(("text", "what"), [(NUL, "NUL"), (SURROGATE, "surrogates")])
@pytest.mark.parametrize(
    ("query", "variables", "path"),
    [
        (SEARCH, lambda t: {"s": t}, "customers.filter.search"),
        (
            "query($e: String) { customers(filter: {email: $e}) { totalCount } }",
            lambda t: {"e": t},
            "customers.filter.email",
        ),
        (
            "query($x: String!) { c: customer(externalId: $x) { id } }",
            lambda t: {"x": t},
            "c.externalId",
        ),
        (
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            lambda t: {"ids": ["Q3VzdG9tZXI6MQ==", t]},
            "nodes.ids.1",
        ),
        (CREATE, lambda t: {"input": {"name": t}}, "customerCreate.input.name"),
        (
            CREATE,
            lambda t: {"input": {"name": "Acme", "email": t}},
            "customerCreate.input.email",
        ),
        (
            CREATE,
            lambda t: {"input": {"name": "Acme", "externalId": t}},
            "customerCreate.input.externalId",
        ),
        (
            """mutation($u: String!) { login(input: {username: $u, password: "x"}) {
              errors { code } } }""",
            lambda t: {"u": t},
            "login.input.username",
        ),
        (
            """mutation($p: String!) { userChangePassword(input: {currentPassword: "old one",
              newPassword: $p}) { errors { code } } }""",
            lambda t: {"p": f"long enough {t}"},
            "userChangePassword.input.newPassword",
        ),
    ],
)
async def test_nul_and_surrogates_in_variables_are_refused_naming_the_argument(
    client: httpx.AsyncClient,
    session: AsyncSession,
    query: str,
    variables: Any,
    path: str,
    text: str,
    what: str,
) -> None:
    before = await customers(session)
    error = refused(await post(client, query, variables(text)))
    assert error["message"].startswith(f"{path} must not contain ")
    assert what in error["message"]
    assert error["extensions"]["field"] == path.split(".")
    assert await customers(session) == before


async def test_nul_in_a_literal_is_refused_like_in_a_variable(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    before = await customers(session)
    literal = 'mutation { customerCreate(input: {name: "a\\u0000b"}) { errors { code } } }'
    error = refused(await post(client, literal))
    assert error["extensions"]["field"] == ["customerCreate", "input", "name"]
    search = '{ customers(filter: {search: "a\\u0000b"}) { totalCount } }'
    assert refused(await post(client, search))["message"].startswith("customers.filter.search")
    assert await customers(session) == before


async def test_surrogate_in_a_literal_is_a_syntax_error(client: httpx.AsyncClient) -> None:
    for literal in ('"x\\ud800y"', f'"{SURROGATE}"'):  # escaped, and the raw character
        response = await post(
            client, f"{{ customers(filter: {{search: {literal}}}) {{ totalCount }} }}"
        )
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["message"].startswith("Syntax Error")


async def test_responses_echoing_a_surrogate_are_still_utf8_json(client: httpx.AsyncClient) -> None:
    """A surrogate that reaches an error message (an unknown operation name, a variable of
    another type) comes back as U+FFFD or an escape, never as a server error."""
    unknown = await post(client, "query Known { __typename }", operationName=SURROGATE)
    assert unknown.status_code == 400, unknown.text
    assert "Unexpected" not in unknown.text
    unknown.content.decode("utf-8")  # valid UTF-8
    typed = await post(
        client, "query($n: Int) { customers(first: $n) { totalCount } }", {"n": SURROGATE}
    )
    assert typed.status_code == 400, typed.text
    assert typed.json()["errors"][0]["message"].startswith("Variable '$n' has invalid value")


async def test_token_endpoint_refuses_nul_in_the_form(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.post(
        "/auth/token", data={"username": NUL, "password": "whatever password"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert "NUL" in response.json()["error_description"]


# --- dates and timestamps ------------------------------------------------------------

KPIS = "query($d: Date!) { dailyKpis(date: $d) { date } }"
CREATED = "query($from: DateTime) { customers(filter: {createdFrom: $from}) { totalCount } }"


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"])
async def test_dates_out_of_range_are_refused(client: httpx.AsyncClient, day: str) -> None:
    error = refused(await post(client, KPIS, {"d": day}))
    assert error["message"] == (
        f"Variable '$d' has invalid value: Date cannot represent '{day}': "
        "it must be from 1900-01-01 to 2999-12-31"
    )
    literal = refused(await post(client, f'{{ dailyKpis(date: "{day}") {{ date }} }}'))
    assert "1900-01-01 to 2999-12-31" in literal["message"]
    assert literal["locations"] == [{"line": 1, "column": 19}]


@pytest.mark.parametrize("day", ["1900-01-01", "2999-12-31"])
async def test_dates_at_the_bounds_are_accepted(client: httpx.AsyncClient, day: str) -> None:
    response = await post(client, KPIS, {"d": day})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["dailyKpis"]["date"] == day


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "1899-12-31T23:59:59Z"]
)
async def test_timestamps_out_of_range_are_refused(client: httpx.AsyncClient, moment: str) -> None:
    error = refused(await post(client, CREATED, {"from": moment}))
    assert "DateTime cannot represent" in error["message"]
    assert "1900-01-01 to 2999-12-31" in error["message"]


async def test_timestamps_in_range_are_accepted(client: httpx.AsyncClient) -> None:
    for moment in ("1900-01-01T00:00:00+14:00", "2999-12-31T23:59:59-12:00"):
        response = await post(client, CREATED, {"from": moment})
        assert response.status_code == 200, response.text


async def test_payment_at_year_one_is_refused_and_not_written(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    customer = await make_customer(session)
    invoice = await make_invoice(session, customer, status="sent", total=Decimal("100.00"))
    fields = {
        "invoiceId": gid("Invoice", invoice),
        "amount": "10.00",
        "method": "CARD",
        "reference": "year one",
        "paidAt": "0001-01-01T00:00:00+14:00",
    }
    error = refused(await post(client, PAY, {"input": fields}))
    assert "invalid value at .paidAt: DateTime" in error["message"]
    assert await session.scalar(select(func.count()).select_from(Payment)) == 0


# --- money ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [
        "1_000",
        "\u0661\u0660\u0660",
        "1e3",
        " 10",
        "10 ",
        "+10",
        ".5",
        "10.",
        "NaN",
        "Infinity",
        "0x10",
    ],
)
async def test_money_in_other_notations_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, amount: str
) -> None:
    customer = await make_customer(session)
    invoice = await make_invoice(session, customer, status="sent", total=Decimal("5000.00"))
    fields = {
        "invoiceId": gid("Invoice", invoice),
        "amount": amount,
        "method": "CARD",
        "reference": "r",
    }
    error = refused(await post(client, PAY, {"input": fields}))
    assert "invalid value at .amount: Decimal" in error["message"]
    assert "-?[0-9]+(.[0-9]+)? in ASCII digits" in error["message"]
    assert await session.scalar(select(func.count()).select_from(Payment)) == 0


async def test_money_literals_are_read_as_written(client: httpx.AsyncClient) -> None:
    """1e3 is refused as a literal too (graphql-core would first make it 1000.0)."""
    query = """mutation { paymentRecord(input: {invoiceId: "SW52b2ljZTox", amount: 1e3,
      method: CARD, reference: "r"}) { errors { code } } }"""
    error = refused(await post(client, query))
    assert "Decimal cannot represent '1e3'" in error["message"]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("10", "10.00"), ("10.5", "10.50"), ("0.25", "0.25"), (12, "12.00"), (7.5, "7.50")],
)
async def test_money_in_ascii_digits_is_accepted(
    client: httpx.AsyncClient, session: AsyncSession, amount: Any, expected: str
) -> None:
    customer = await make_customer(session)
    invoice = await make_invoice(session, customer, status="sent", total=Decimal("100.00"))
    fields = {
        "invoiceId": gid("Invoice", invoice),
        "amount": amount,
        "method": "CARD",
        "reference": "r",
    }
    response = await post(client, PAY, {"input": fields})
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["paymentRecord"]
    assert payload["errors"] == []
    assert payload["payment"]["amount"] == expected


@pytest.mark.parametrize(
    ("amount", "message"),
    [("-3.25", "must be more than 0"), ("10.123", "at most 2 decimals")],
)
async def test_money_rules_name_the_field(
    client: httpx.AsyncClient, session: AsyncSession, amount: str, message: str
) -> None:
    """The notation is the scalar's; sign and decimals are the payment's rules, reported
    in the payload at the field."""
    customer = await make_customer(session)
    invoice = await make_invoice(session, customer, status="sent", total=Decimal("100.00"))
    fields = {
        "invoiceId": gid("Invoice", invoice),
        "amount": amount,
        "method": "CARD",
        "reference": "r",
    }
    response = await post(client, PAY, {"input": fields})
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["paymentRecord"]
    assert payload["payment"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", ["amount"])
    assert message in error["message"]


async def test_get_requests_get_the_same_checks(client: httpx.AsyncClient) -> None:
    variables = json.dumps({"s": SURROGATE})  # ASCII JSON: the escape travels in the URL
    response = await client.get(
        "/graphql", params={"query": SEARCH, "variables": variables}, headers=GRAPHQL_RESPONSE
    )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": ["customers", "filter", "search"],
    }


@pytest.mark.parametrize("path", ["/%ED%A0%80", "/%00", "/graphql/static/%ED%A0%80.css"])
async def test_odd_paths_are_json_404s(anon_client: httpx.AsyncClient, path: str) -> None:
    response = await anon_client.get(path)
    assert response.status_code == 404, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_keyed_mutations_get_the_same_checks(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """An Idempotency-Key request hashes its variables first: a surrogate there too is the
    typed refusal, and no key is kept."""
    before = await customers(session)
    for text in (NUL, SURROGATE):
        body = json.dumps({"query": CREATE, "variables": {"input": {"name": text}}})
        response = await client.post(
            "/graphql",
            content=body.encode("ascii"),
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": f"k-{len(text)}{ord(text[1])}",
                **GRAPHQL_RESPONSE,
            },
        )
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await customers(session) == before
    assert await session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
