"""The sandbox's template review (simulation.review_template): it rejects what lint
rejects with Meta's rejection reason, rejects promotional UTILITY templates as
PROMOTIONAL with MARKETING suggested, and approves everything else."""

import pytest

from omniroute.policy.templates import RejectionReason, TemplateStatus
from omniroute.providers.sandbox.simulation import Verdict, review_template
from tests.templates.lint_corpus import CASES
from tests.templates.lint_corpus import corpus_template as template


def test_a_format_error_is_rejected_as_invalid_format_with_lints_sentence() -> None:
    assert review_template(template("header_newline")) == Verdict(
        TemplateStatus.REJECTED,
        RejectionReason.INVALID_FORMAT.value,
        explanation="A text header is a single line: remove the line break.",
    )


def test_a_component_of_the_wrong_category_is_rejected_as_incorrect_category() -> None:
    verdict = review_template(template("offer_in_utility"))
    assert (verdict.status, verdict.reason) == (TemplateStatus.REJECTED, "INCORRECT_CATEGORY")


def test_promotional_content_in_a_utility_template_is_rejected_with_marketing_suggested() -> None:
    assert review_template(template("promotional_buy_now_button")) == Verdict(
        TemplateStatus.REJECTED,
        RejectionReason.PROMOTIONAL.value,
        suggested_category="MARKETING",
        explanation="Buy now",
    )


def test_the_same_wording_as_marketing_is_approved() -> None:
    marketing = {**template("promotional_buy_now_button"), "category": "MARKETING"}
    assert review_template(marketing) == Verdict(TemplateStatus.APPROVED, None)


@pytest.mark.parametrize("slug", [slug for slug, case in CASES.items() if case["expected"]["valid"]])
def test_valid_corpus_templates_are_approved_unless_promotional_utility(slug: str) -> None:
    verdict = review_template(template(slug))
    if "promotional_content" in CASES[slug]["expected"]["warnings"]:
        assert (verdict.status, verdict.reason, verdict.suggested_category) == (
            TemplateStatus.REJECTED,
            "PROMOTIONAL",
            "MARKETING",
        )
        assert verdict.explanation
    else:
        assert verdict == Verdict(TemplateStatus.APPROVED, None, None)


@pytest.mark.parametrize("slug", [slug for slug, case in CASES.items() if not case["expected"]["valid"]])
def test_invalid_corpus_templates_are_rejected(slug: str) -> None:
    verdict = review_template(template(slug))
    assert verdict.status is TemplateStatus.REJECTED
    expected = (
        "INCORRECT_CATEGORY"
        if "component_requires_marketing" in CASES[slug]["expected"]["errors"]
        else "INVALID_FORMAT"
    )
    assert verdict.reason == expected
    assert verdict.suggested_category is None
    assert verdict.explanation
