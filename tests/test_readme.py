"""The README's Python examples run as written (docs that cannot drift)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, capsys):
    exec(compile(BLOCKS[index], f"README.md[python block {index}]", "exec"), {})
    capsys.readouterr()


def test_readme_command_line_output_is_current(capsys):
    from lcnfast.cli import main

    text = README.read_text(encoding="utf-8")
    block = re.search(r"```text\n\$ lcnfast (.*?)\n(.*?)```", text, re.S)
    assert block is not None
    main(block.group(1).split())
    assert capsys.readouterr().out == block.group(2)
