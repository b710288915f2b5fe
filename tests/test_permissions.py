"""The permission matrix (issue 14 point 2): one table, printed in docs, answering every check."""

from __future__ import annotations

from pathlib import Path

import pytest

from tepat.domain.access import PERMISSIONS, Permission, Role, permission_table
from tepat.errors import PermissionDenied
from tests.conftest import actor

DOCS = Path(__file__).parents[1] / "docs" / "accounts.md"


def test_the_documented_table_is_the_one_in_the_code() -> None:
    text = DOCS.read_text(encoding="utf-8")
    printed = text.split("<!-- permission-table -->\n")[1].split("\n<!-- /permission-table -->")[0]
    assert printed == permission_table()


def test_may_and_require_read_the_table_and_the_area() -> None:
    operator = actor(Role.OPERATOR, "32.75.01.1001")
    assert operator.may(Permission.EDIT_REGISTRY) and operator.may(Permission.EDIT_REGISTRY, "32.75.01.1001")
    assert not operator.may(Permission.EDIT_REGISTRY, "32.75.02.1001")  # outside the area
    assert not operator.may(Permission.MANAGE_MONEY)
    with pytest.raises(PermissionDenied) as refused:
        operator.require(Permission.MANAGE_MONEY)
    assert refused.value.message == Permission.MANAGE_MONEY.refusal
    with pytest.raises(PermissionDenied) as outside:
        operator.require(Permission.EDIT_REGISTRY, "32.75.02.1001")
    assert "di luar wilayah" in outside.value.message


def test_analysts_never_read_personal_data_and_only_admins_oversee() -> None:
    assert Permission.READ_PERSONAL not in PERMISSIONS[Role.ANALYST]
    assert {r for r in Role if Permission.OVERSEE in PERMISSIONS[r]} == {Role.ADMIN}
    assert {r for r in Role if Permission.MANAGE_MONEY in PERMISSIONS[r]} == {Role.ADMIN, Role.FINANCE}
    assert all(set(PERMISSIONS[r]) <= set(PERMISSIONS[Role.ADMIN]) for r in Role)
