"""The early answer to an upload request larger than the organisation accepts."""

from __future__ import annotations

import pytest
from customer_import.errors import InvalidUpload
from customer_import.organisations import OrganisationProfile
from customer_import.uploads import check_declared_size, upload_limit

from tests.fakes import SETTINGS, FakeOrganisations


def test_the_organisations_own_limit_wins_over_the_products() -> None:
    # Given an organisation limited to 1 MB, and another with no limit of its own
    organisations = FakeOrganisations()
    organisations.put(OrganisationProfile(org_id="small", max_file_bytes=1_048_576))
    # Then each gets its limit
    assert upload_limit(SETTINGS, organisations, "small") == 1_048_576
    assert upload_limit(SETTINGS, organisations, "other") == SETTINGS.max_file_bytes


@pytest.mark.parametrize(
    ("size", "message"),
    [
        (0, "The file is empty"),
        (3_145_728, "The file is 3.0 MB; the limit is 2.0 MB"),
        (2_097_152 + 30_000, "The file is 2.03 MB; the limit is 2.00 MB"),
        (2_097_152 + 1, "The file is 2,097,153 bytes; the limit is 2,097,152 bytes"),
    ],
    ids=["empty", "larger", "a little larger", "one byte larger"],
)
def test_a_declared_size_outside_the_limit_is_refused(size: int, message: str) -> None:
    with pytest.raises(InvalidUpload, match=message):
        check_declared_size(size, 2_097_152)


def test_a_declared_size_within_the_limit_passes() -> None:
    check_declared_size(2_097_152, 2_097_152)
