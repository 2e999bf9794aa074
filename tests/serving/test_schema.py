"""Property tests generated from the OpenAPI schema (schemathesis): no input is a 500.

Every operation gets a few generated requests, valid and invalid, sent to the app in
process (ASGI); whatever arrives, the answer must not be a server error. Kept small
(few examples per operation) so it runs in seconds; the hand-written API tests cover
the meaning of the answers. (schemathesis' own pytest plugin does not run under pytest
9 yet, so the cases come from its Hypothesis strategies directly.)
"""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a dev dependency")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

OPERATIONS = [
    "GET /v1/model",
    "POST /v1/sample",
    "POST /v1/generate",
    "POST /v1/encode",
    "POST /v1/complete",
    "POST /v1/interpolate",
    "POST /v1/font",
    "GET /health",
    "GET /metrics",
]


@pytest.fixture(scope="module")
def operations(app: Any) -> dict[str, Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    found = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        found[operation.label] = operation
    return found


def test_schema_has_every_operation(operations: dict[str, Any]) -> None:
    assert sorted(operations) == sorted(OPERATIONS)


@pytest.mark.slow
@pytest.mark.parametrize("label", OPERATIONS)
def test_no_request_is_a_server_error(operations: dict[str, Any], label: str) -> None:
    operation = operations[label]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=10,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(checks=[not_a_server_error])

    check()
