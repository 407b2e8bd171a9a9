"""The simulated network's send limits and template parameter check
(providers/sandbox/network_rules.py), on an explicit clock."""

from omniroute.policy.limits import PAIR_RATE_BURST, PAIR_RATE_INTERVAL
from omniroute.providers.sandbox.network_rules import (
    PairRateLimiter,
    ThroughputLimiter,
    template_parameter_problem,
)
from tests.conftest import POSITIONAL_BODY


def test_throughput_allows_n_per_rolling_second() -> None:
    limiter = ThroughputLimiter(per_second=2)
    assert [limiter.allow(10.0), limiter.allow(10.2), limiter.allow(10.5)] == [True, True, False]
    assert limiter.allow(11.0)
    assert not limiter.allow(11.1)
    assert limiter.allow(11.2)


def test_pair_rate_allows_a_burst_then_one_per_interval_per_customer() -> None:
    limiter = PairRateLimiter()
    assert all(limiter.allow("a", 0.0) for _ in range(PAIR_RATE_BURST))
    assert not limiter.allow("a", 0.0)
    assert limiter.allow("b", 0.0)
    interval = PAIR_RATE_INTERVAL.total_seconds()
    assert not limiter.allow("a", interval / 2)
    assert limiter.allow("a", interval)
    assert not limiter.allow("a", interval)


HEADER = {"type": "HEADER", "format": "IMAGE"}
BUTTONS = {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Go", "url": "https://x.io/{{1}}"}]}
PARAMETERS = [
    {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x.io/a.png"}}]},
    {"type": "body", "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "#1"}]},
    {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "1"}]},
]


def test_parameters_matching_the_template_pass() -> None:
    assert template_parameter_problem([HEADER, POSITIONAL_BODY, BUTTONS], PARAMETERS) is None
    assert template_parameter_problem([{"type": "BODY", "text": "No variables here."}], []) is None


def test_each_component_count_is_checked() -> None:
    components = [HEADER, POSITIONAL_BODY, BUTTONS]
    missing_header = template_parameter_problem(components, PARAMETERS[1:])
    assert missing_header is not None and missing_header.startswith("header: ")
    short_body = [PARAMETERS[0], {"type": "body", "parameters": []}, PARAMETERS[2]]
    assert template_parameter_problem(components, short_body) == (
        "body: number of localizable_params (0) does not match the expected number of params (2)"
    )
    wrong_index = [*PARAMETERS[:2], {**PARAMETERS[2], "index": "1"}]
    problem = template_parameter_problem(components, wrong_index)
    assert problem is not None and "button at index 0" in problem


def test_named_templates_need_the_template_parameter_names() -> None:
    named_body = {"type": "BODY", "text": "Hello {{first_name}}, see you on {{day}} at the shop."}

    def body(*names: str) -> list[dict[str, object]]:
        return [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "x", "parameter_name": n} for n in names],
            }
        ]

    assert template_parameter_problem([named_body], body("day", "first_name")) is None
    problem = template_parameter_problem([named_body], body("first_name", "time"))
    assert problem is not None and problem.startswith("body: parameter names")
