"""The customer store serializes items without building PynamoDB models, to the same result."""

from __future__ import annotations

import pytest
from customer_import.adapters.dynamo import (
    AddressModel,
    CustomerModel,
    DynamoCustomerStore,
    MatchKeyModel,
    VehicleModel,
    _serialize,
)
from customer_import.jobs import Job, JobStatus
from pynamodb.exceptions import AttributeNullError

JOB = Job(
    org_id="org",
    job_id="job",
    status=JobStatus.IMPORTING,
    source="techman",
    account_id="main",
    file_name="f.csv",
    object_key="uploads/org/job/f.csv",
    created_at="2026-01-01T00:00:00.000+00:00",
    updated_at="2026-01-01T00:00:00.000+00:00",
)
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
    # Given a staged customer with absent values, booleans, a number and JSON
    # When the store turns it into items
    items = DynamoCustomerStore._items(JOB, CUSTOMER)
    # Then each item is what the PynamoDB model of its table serializes
    customer, address, first_vehicle, second_vehicle, *keys = items
    assert customer[0] is CustomerModel and address[0] is AddressModel
    assert (
        customer[1]
        == CustomerModel(
            "org",
            "c-1",
            account_id="main",
            external_customer_number="1001",
            name="Ann Lee",
            email="Ann@Example.com",
            email_normalised="ann@example.com",
            phone="+447700900123",
            customer_group="Retail",
            credit_hold=False,
            account_customer=True,
            notification_preferences={"sms": True, "marketing": False},
            date_created="2019-03-04T10:00:00+00:00",
            source_job_id="job",
            created_at="2026-01-01T00:00:01.000+00:00",
            updated_at="2026-01-01T00:00:01.000+00:00",
        ).serialize()
    )
    assert (
        address[1]
        == AddressModel(
            "c-1", "billing", org_id="org", line1="1 High St", town="Leeds", postcode="LS1 1AA"
        ).serialize()
    )
    vehicle_id = first_vehicle[1]["vehicle_id"]["S"]
    assert (
        first_vehicle[1]
        == VehicleModel(
            "c-1",
            vehicle_id,
            org_id="org",
            registration="AB12CDE",
            make="Ford",
            first_registered="2015-01-02",
            mileage=115882,
        ).serialize()
    )
    assert second_vehicle[1]["vin"] == {"S": "VIN1"} and "mileage" not in second_vehicle[1]
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
