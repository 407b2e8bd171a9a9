"""The lint corpus (tests/templates/corpus/*.json), shared by the lint, API, CLI and
sandbox review tests.

Each case file holds a ``description``, the ``template`` as our API takes it and the
``expected`` result: ``valid``, the set of error codes, the set of warning codes and the
``suggested_category``. ``"http": false`` marks the few cases the API's request schema
already refuses (422 naming the field) before lint runs."""

import json
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).parent / "corpus"
CASES: dict[str, dict[str, Any]] = {
    path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(CORPUS.glob("*.json"))
}


def corpus_template(slug: str) -> dict[str, Any]:
    """A fresh copy of one case's template."""
    return dict(json.loads(json.dumps(CASES[slug]["template"])))
