"""X-Twilio-Signature against Twilio's published vector (twilio-php RequestValidatorTest)."""

from omniroute.providers.twilio import signature

URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}


def test_twilios_published_vector() -> None:
    assert signature.compute("12345", URL, PARAMS.items()) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert signature.valid("12345", URL, PARAMS.items(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_any_change_breaks_it() -> None:
    good = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert not signature.valid("12346", URL, PARAMS.items(), good)
    assert not signature.valid("12345", URL + "&extra=1", PARAMS.items(), good)
    assert not signature.valid("12345", URL, {**PARAMS, "Digits": "9999"}.items(), good)
    assert not signature.valid("12345", URL, PARAMS.items(), None)
