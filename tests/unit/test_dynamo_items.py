"""The customer repository serializes items without building PynamoDB models, to the same
result."""

from __future__ import annotations

import pytest
from customer_import.adapters.customers_dynamo import (
    _CUSTOMER_ABSENT,
    _IDENTITY_FREE_OR_OWN,
    _customer_item,
    _customer_put,
    _identity_item,
    _identity_put,
    _stored_create,
    _sub_records,
)
from customer_import.adapters.dynamo import (
    AddressModel,
    CustomerModel,
    IdentityModel,
    MatchKeyModel,
    VehicleModel,
    _match_key_items,
    _serialize,
)
from customer_import.customers.customer import Customer
from customer_import.customers.repository import Create
from customer_import.duplicates import match_keys
from pynamodb.exceptions import AttributeNullError

CUSTOMER = {
    "customer_id": "c-1",
    "external_customer_number": "1001",
    "staged_at": "2026-01-01T00:00:01.000+00:00",
    "title": None,
    "name": "Ann Lee",
    "email": "Ann@Example.com",
    "phone": "+447700900123",
    "landline": None,
    "customer_group": "Retail",
    "credit_hold": False,
    "account_customer": True,
    "vat_registered": None,
    "vat_number": None,
    "notification_preferences": {"sms": True, "marketing": False},
    "date_created": "2019-03-04T10:00:00+00:00",
    "last_visit": None,
    "addresses": [
        {
            "type": "billing",
            "line1": "1 High St",
            "line2": None,
            "line3": None,
            "town": "Leeds",
            "county": None,
            "postcode": "LS1 1AA",
            "country": None,
        },
    ],
    "vehicles": [
        {
            "registration": "AB12CDE",
            "make": "Ford",
            "model": None,
            "vin": None,
            "first_registered": "2015-01-02",
            "mot_due": None,
            "mileage": 115882,
            "row": 2,
        },
        {
            "registration": None,
            "make": None,
            "model": None,
            "vin": "VIN1",
            "first_registered": None,
            "mot_due": None,
            "mileage": None,
            "row": 3,
        },
    ],
    "rows": [2, 3],
    "originals": [{}, {}],
}


def test_items_serialize_exactly_as_pynamodb_models_would() -> None:
    # Given a staged customer with absent values, booleans, a number and JSON, as stored
    stored = _stored_create(Create(Customer.from_staged("org", "main", CUSTOMER), "job", "t0"))
    # When the repository turns it into items
    model, customer = _customer_put(stored)
    address, first_vehicle, second_vehicle = _sub_records(stored, stored.addresses, stored.vehicles)
    keys = _match_key_items("org", "c-1", match_keys(stored.flat()))
    # Then each item is what the PynamoDB model of its table serializes
    assert model is CustomerModel and address[0] is AddressModel
    assert customer == _customer_item(stored).serialize()
    assert (
        address[1]
        == AddressModel(
            "c-1", "billing", org_id="org", line1="1 High St", town="Leeds", postcode="LS1 1AA"
        ).serialize()
    )
    by_registration = {
        v[1].get("registration", {}).get("S"): v[1] for v in (first_vehicle, second_vehicle)
    }
    vehicle = by_registration["AB12CDE"]
    assert (
        vehicle
        == VehicleModel(
            "c-1",
            vehicle["vehicle_id"]["S"],
            org_id="org",
            vehicle_key=vehicle["vehicle_key"]["S"],
            registration="AB12CDE",
            make="Ford",
            first_registered="2015-01-02",
            mileage=115882,
        ).serialize()
    )
    assert by_registration[None]["vin"] == {"S": "VIN1"} and "mileage" not in by_registration[None]
    # And one match-key item per key, pointing at the customer
    assert sorted(item["match_key"]["S"] for _, item in keys) == [
        "org#email:ann@example.com",
        "org#external:1001",
        "org#name:ann lee",
        "org#phone:+447700900123",
    ]
    assert {(model, item["customer_id"]["S"]) for model, item in keys} == {(MatchKeyModel, "c-1")}


def test_a_missing_required_attribute_or_an_unknown_one_is_refused() -> None:
    # A required attribute absent fails as PynamoDB would; a misspelt one is not dropped silently
    with pytest.raises(AttributeNullError):
        _serialize(AddressModel, ("c-1", "billing"), {"town": "Leeds"})
    with pytest.raises(ValueError, match="postcde"):
        _serialize(AddressModel, ("c-1", "billing"), {"org_id": "o", "postcde": "LS1"})


def test_transaction_puts_carry_the_conditions_pynamodb_would_write() -> None:
    # Given a customer created with an external number
    stored = _stored_create(Create(Customer.from_staged("org", "main", CUSTOMER), "job", "t0"))
    # When the repository builds its transaction's two conditional puts
    identity = _IDENTITY_FREE_OR_OWN.put(_identity_put(stored, live=True), stored.customer_id)
    customer = _CUSTOMER_ABSENT.put(_customer_put(stored))
    # Then each is what PynamoDB's TransactWrite.save writes for the model and its condition
    assert identity == _identity_item(stored, live=True).get_save_kwargs_from_instance(
        condition=IdentityModel.identity_key.does_not_exist()
        | (IdentityModel.live == False)  # noqa: E712
        | (IdentityModel.customer_id == "c-1")
    )
    assert customer == _customer_item(stored).get_save_kwargs_from_instance(
        condition=CustomerModel.customer_id.does_not_exist()
    )
    # And the next customer's claim names its own id, not the first one's
    other = stored.with_changes(customer_id="c-2")
    claim = _IDENTITY_FREE_OR_OWN.put(_identity_put(other, live=True), "c-2")
    assert {"S": "c-2"} in claim["ExpressionAttributeValues"].values()
    assert {"S": "c-1"} not in claim["ExpressionAttributeValues"].values()
