"""Meta's error codes and their retry classes (policy/errors.py)."""

import pytest

from omniroute.policy.errors import META_ERRORS, RetryClass, classify


@pytest.mark.parametrize(
    ("code", "retry", "ours"),
    [
        (131047, RetryClass.FINAL, "window_closed"),
        (131026, RetryClass.FINAL, "undeliverable"),
        (131056, RetryClass.RETRY, "pair_rate_limited"),
        (130429, RetryClass.RETRY, "throughput_limited"),
        (131049, RetryClass.LATER, "marketing_limited"),
        (132000, RetryClass.FINAL, "template_parameters_mismatch"),
        (132001, RetryClass.FINAL, "template_not_approved"),
    ],
)
def test_known_codes_are_classified(code: int, retry: RetryClass, ours: str) -> None:
    meaning = classify(code)
    assert (meaning.retry, meaning.our_code) == (retry, ours)


def test_unknown_codes_are_final_so_nothing_is_sent_twice() -> None:
    meaning = classify(999999)
    assert meaning.retry is RetryClass.FINAL
    assert meaning.our_code == "provider_error"


def test_every_policy_page_code_is_known() -> None:
    documented = {
        131047,
        131026,
        131049,
        131050,
        131051,
        131056,
        130429,
        131048,
        131057,
        132000,
        132001,
        132005,
        132007,
        132012,
        132015,
        132016,
        133010,
        100,
        190,
        4,
        80007,
        368,
    }
    assert documented <= set(META_ERRORS)
