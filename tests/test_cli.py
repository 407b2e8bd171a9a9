"""The ``omniroute`` command line: serve's help, and managing keys and workspaces."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from omniroute.cli import app
from omniroute.config import get_settings

runner = CliRunner()


@pytest.fixture
def own_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The commands run on a fresh SQLite database of their own, as on a new install."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def listed_keys(*args: str) -> dict[str, dict[str, Any]]:
    """``keys list --json``, by prefix."""
    return {key["prefix"]: key for key in json.loads(run("keys", "list", "--json", *args))}


def prefix(raw_key: str) -> str:
    return raw_key[: len("or_live_") + 4]


def test_serve_help_shows_the_default_host_and_port() -> None:
    help_text = run("serve", "--help")
    assert "127.0.0.1" in help_text and "OMNIROUTE_HOST" in help_text
    assert "8000" in help_text and "OMNIROUTE_PORT" in help_text


@pytest.mark.usefixtures("own_database")
def test_the_first_live_key_of_the_default_workspace_is_the_admin_key() -> None:
    run("keys", "create", "--mode", "test")
    first_live = runner.invoke(app, ["keys", "create", "--mode", "live"])
    assert "admin key" in first_live.output
    second_live = runner.invoke(app, ["keys", "create", "--mode", "live"])
    assert "admin key" not in second_live.output
    keys = listed_keys()
    assert [k["mode"] for k in keys.values() if k["admin"]] == ["live"]
    assert keys[prefix(last_line(first_live.stdout))]["admin"] is True
    refused = runner.invoke(app, ["keys", "create", "--mode", "test", "--admin"])
    assert refused.exit_code == 2 and "live key" in refused.output


@pytest.mark.usefixtures("own_database")
def test_keys_are_listed_revoked_and_rotated_by_id() -> None:
    raw = last_line(run("keys", "create", "--mode", "live", "--name", "backend", "--no-admin"))
    listing = run("keys", "list")
    assert raw not in listing and prefix(raw) in listing
    key = listed_keys()[prefix(raw)]
    assert (key["status"], key["name"], key["admin"]) == ("active", "backend", False)

    new_raw = last_line(run("keys", "rotate", key["id"], "--grace-period", "600"))
    assert new_raw.startswith("or_live_") and new_raw != raw
    keys = listed_keys()
    assert keys[prefix(raw)]["status"] == "expiring" and keys[prefix(raw)]["expires_at"]
    assert keys[prefix(new_raw)] | {"id": None, "prefix": None, "created_at": None} == key | {
        "id": None,
        "prefix": None,
        "created_at": None,
    }

    run("keys", "revoke", key["id"])
    assert listed_keys()[prefix(raw)]["status"] == "revoked"
    again = runner.invoke(app, ["keys", "rotate", key["id"]])
    assert again.exit_code == 2 and "cannot be rotated" in again.output
    unknown = runner.invoke(app, ["keys", "revoke", "key_nope"])
    assert unknown.exit_code == 2 and "key_nope" in unknown.output


@pytest.mark.usefixtures("own_database")
def test_workspaces_are_created_listed_and_given_keys() -> None:
    run("keys", "create", "--mode", "test")  # creates the default workspace
    workspace_id = last_line(run("workspaces", "create", "Acme Ltd"))
    assert workspace_id.startswith("ws_")
    listing = json.loads(run("workspaces", "list", "--json"))
    assert [(w["name"], w["id"] == workspace_id) for w in listing] == [
        ("Default workspace", False),
        ("Acme Ltd", True),
    ]
    assert "Acme Ltd" in run("workspaces", "list")
    raw = last_line(run("keys", "create", "--mode", "live", "--workspace", workspace_id))
    acme_keys = listed_keys("--workspace", workspace_id)
    assert list(acme_keys) == [prefix(raw)] and acme_keys[prefix(raw)]["admin"] is False
    assert prefix(raw) not in listed_keys()
    unknown = runner.invoke(app, ["keys", "list", "--workspace", "ws_nope"])
    assert unknown.exit_code == 2 and "ws_nope" in unknown.output


def test_usage_prints_what_the_api_shows(own_database: None) -> None:
    window = ("--from", "2026-01-01", "--to", "2027-01-01")
    assert json.loads(run("usage", *window, "--group-by", "campaign", "--json")) == []
    assert "messages" in run("usage", *window)
    refused = runner.invoke(app, ["usage", *window, "--group-by", "week"])
    assert refused.exit_code != 0
