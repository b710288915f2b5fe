"""The API against its own OpenAPI document, with schemathesis (issue 13, "done when"): generated requests on a
small seeded registry give no 5xx and no response that breaks the schema. Bounded: a few examples per operation."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from tepat.domain.access import Role
from tepat.services import auth
from tepat.store.database import Database
from tests.factories import make_family
from tests.test_web_support import SYSTEM_ADMIN, add_user, make_app

EXAMPLES_PER_OPERATION = 25


@pytest.fixture
def seeded(db: Database, tmp_path: Path, admin) -> tuple[object, str]:
    for kelurahan in ("32.75.01.1001", "32.75.02.1001"):
        make_family(db, admin, kelurahan)
    add_user(db, "ani", Role.OPERATOR, "32.75.01.1001")
    token = auth.issue_token(db, SYSTEM_ADMIN, "ani", label="schemathesis").token
    return make_app(db, tmp_path), token


def test_no_server_error_and_no_schema_violation(seeded: tuple[object, str]) -> None:
    app, token = seeded
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for found in schema.get_all_operations():
        operation = found.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            assert response.status_code < 500, f"{response.status_code} {response.text[:300]}"
            case.validate_response(response, checks=[response_schema_conformance])

        try:
            check()
        except Exception as exc:  # noqa: BLE001 -- every operation is tried; all failures are reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    assert operations >= 10
    assert not failures, "\n\n".join(failures)
