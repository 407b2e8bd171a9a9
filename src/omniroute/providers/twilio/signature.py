"""``X-Twilio-Signature``: base64 of HMAC-SHA1 under the account's auth token, over the
full URL Twilio called (scheme, host, path and query) followed by every POST parameter,
sorted by name, as name and value concatenated without separators."""

import base64
import hashlib
import hmac
from collections.abc import Iterable


def compute(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def valid(auth_token: str, url: str, params: Iterable[tuple[str, str]], header: str | None) -> bool:
    if not header or not auth_token:
        return False
    return hmac.compare_digest(compute(auth_token, url, params).encode(), header.strip().encode())
