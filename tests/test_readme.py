"""The README's Python examples run as written (docs that cannot drift)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs_as_a_script(index, tmp_path):
    """Each block is pasted into a file and run with ``python FILE`` in a fresh process, as a
    user would: in-process ``exec`` could not see a missing ``__main__`` guard (a Dask
    LocalCluster's spawned workers re-import the script) or state left by other tests."""
    script = tmp_path / f"readme_block_{index}.py"
    script.write_text(BLOCKS[index], encoding="utf-8")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600, env=env)
    assert result.returncode == 0, f"README python block {index} failed:\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr


def test_readme_command_line_output_is_current(capsys):
    from lcnfast.cli import main

    text = README.read_text(encoding="utf-8")
    block = re.search(r"```text\n\$ lcnfast (.*?)\n(.*?)```", text, re.S)
    assert block is not None
    main(block.group(1).split())
    assert capsys.readouterr().out == block.group(2)
