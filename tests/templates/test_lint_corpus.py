"""The lint corpus: Meta's documented examples of every component kind lint clean, and
every rule has templates that break it (see tests/templates/lint_corpus.py)."""

from typing import Any

import pytest

from omniroute.templates.lint import lint
from tests.conftest import Tenant
from tests.templates.lint_corpus import CASES


def summary(valid: bool, issues: list[dict[str, Any]], suggested_category: str | None) -> dict[str, Any]:
    return {
        "valid": valid,
        "errors": sorted({i["code"] for i in issues if i["severity"] == "error"}),
        "warnings": sorted({i["code"] for i in issues if i["severity"] == "warning"}),
        "suggested_category": suggested_category,
    }


def test_the_corpus_covers_every_component_kind_and_enough_cases() -> None:
    assert len(CASES) >= 60
    valid = [case["template"] for case in CASES.values() if case["expected"]["valid"]]
    kinds = set()
    for template in valid:
        for component in template["components"]:
            kind = component["type"].upper()
            kinds.add(kind)
            if kind == "HEADER":
                kinds.add(f"HEADER:{component.get('format', 'TEXT')}")
            for button in component.get("buttons", []):
                kinds.add(f"{button['type'].upper()}:{button.get('otp_type', '').upper()}")
    assert {
        "HEADER:TEXT",
        "HEADER:IMAGE",
        "HEADER:VIDEO",
        "HEADER:DOCUMENT",
        "HEADER:LOCATION",
        "FOOTER",
        "QUICK_REPLY:",
        "URL:",
        "PHONE_NUMBER:",
        "COPY_CODE:",
        "OTP:COPY_CODE",
        "OTP:ONE_TAP",
        "OTP:ZERO_TAP",
        "CAROUSEL",
        "LIMITED_TIME_OFFER",
        "HEADER:product",
        "CATALOG:",
        "MPM:",
        "SPM:",
    } <= kinds


@pytest.mark.parametrize("slug", list(CASES))
async def test_corpus_case(slug: str, tenant: Tenant) -> None:
    case = CASES[slug]
    result = lint(case["template"])
    as_dict = result.as_dict()
    assert summary(result.valid, as_dict["issues"], result.suggested_category) == case["expected"], case[
        "description"
    ]
    if result.suggested_category:
        assert result.category_reason and any(result.category_reason in i.message for i in result.issues)
    if not case.get("http", True):
        return
    response = await tenant.test.post("/v1/templates/lint", json=case["template"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert summary(body["valid"], body["issues"], body["suggested_category"]) == case["expected"]
    assert body == as_dict
