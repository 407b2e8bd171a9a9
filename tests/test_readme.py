"""The README's configuration table is one table and documents every setting."""

import re
from pathlib import Path

from omniroute.config import Settings

README = Path(__file__).parent.parent / "README.md"


def configuration_section() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return section.splitlines()


def test_the_configuration_table_is_not_split() -> None:
    lines = configuration_section()
    rows = [i for i, line in enumerate(lines) if line.startswith("|")]
    assert rows, "no configuration table"
    assert rows == list(range(rows[0], rows[-1] + 1)), "a blank or other line splits the table"


def test_every_setting_is_in_the_configuration_table() -> None:
    documented = {m for line in configuration_section() for m in re.findall(r"`(OMNIROUTE_\w+)`", line)}
    settings = {f"OMNIROUTE_{name.upper()}" for name in Settings.model_fields}
    assert settings <= documented, sorted(settings - documented)
