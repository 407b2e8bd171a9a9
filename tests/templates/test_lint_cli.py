"""``omniroute templates lint FILE.json``: lint offline, e.g. in a CI pipeline."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from omniroute.cli import app
from tests.templates.lint_corpus import corpus_template

runner = CliRunner()


def write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "templates.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


def test_valid_templates_exit_0(tmp_path: Path) -> None:
    path = write(tmp_path, [corpus_template("meta_carousel"), corpus_template("meta_auth_one_tap")])
    result = runner.invoke(app, ["templates", "lint", str(path)])
    assert result.exit_code == 0, result.output
    assert "meta_carousel (en_US): valid" in result.output
    assert "meta_auth_one_tap (en_US): valid" in result.output


def test_warnings_do_not_fail_the_run_but_are_shown(tmp_path: Path) -> None:
    path = write(tmp_path, corpus_template("promotional_buy_now_button"))
    result = runner.invoke(app, ["templates", "lint", str(path)])
    assert result.exit_code == 0, result.output
    assert "promotional_content" in result.output
    assert "suggested category: MARKETING" in result.output


def test_text_from_the_template_is_printed_literally(tmp_path: Path) -> None:
    template = corpus_template("transactional_order_shipped")
    template["components"][0]["text"] = "Your order has shipped. [bold]Buy now[/bold] and save."
    result = runner.invoke(app, ["templates", "lint", str(write(tmp_path, template))])
    assert result.exit_code == 0, result.output
    assert "[bold]Buy now[/bold]" in result.output


def test_any_error_exits_1_and_names_the_rule(tmp_path: Path) -> None:
    path = write(tmp_path, [corpus_template("meta_named_parameters"), corpus_template("header_emoji")])
    result = runner.invoke(app, ["templates", "lint", str(path)])
    assert result.exit_code == 1
    assert "meta_named_parameters (en_US): valid" in result.output
    assert "header_emoji (en_US): invalid" in result.output
    assert "header_emoji" in result.output.split("invalid", 1)[1]


def test_json_output_mirrors_the_file(tmp_path: Path) -> None:
    single = runner.invoke(
        app, ["templates", "lint", "--json", str(write(tmp_path, corpus_template("body_empty")))]
    )
    assert single.exit_code == 1
    report = json.loads(single.output)
    assert (report["name"], report["valid"]) == ("body_empty", False)
    assert [i["code"] for i in report["issues"]] == ["body_empty"]

    listed = runner.invoke(
        app, ["templates", "lint", "--json", str(write(tmp_path, [corpus_template("meta_carousel")]))]
    )
    assert listed.exit_code == 0
    [only] = json.loads(listed.output)
    assert only == {
        "name": "meta_carousel",
        "language": "en_US",
        "valid": True,
        "issues": [],
        "suggested_category": None,
        "category_reason": None,
    }


def test_an_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    for path in (broken, tmp_path / "missing.json", write(tmp_path, ["not a template"])):
        result = runner.invoke(app, ["templates", "lint", str(path)])
        assert result.exit_code == 2, result.output


def test_the_installed_command_runs_in_a_subprocess(tmp_path: Path) -> None:
    path = write(
        tmp_path, [corpus_template("meta_limited_time_offer"), corpus_template("variables_adjacent")]
    )
    command = Path(sys.executable).parent / "omniroute"
    completed = subprocess.run(
        [str(command), "templates", "lint", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1, completed.stderr
    valid, invalid = json.loads(completed.stdout)
    assert valid["valid"] is True
    assert {i["code"] for i in invalid["issues"]} == {"variables_adjacent"}
