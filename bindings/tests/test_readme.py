"""The README's Python example runs as written."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re


def test_readme_example_runs(source_dir: pathlib.Path) -> None:
    text = (source_dir / "README.md").read_text()
    m = re.search(r"<!-- python-example[^>]*-->\n```python\n(.*?)```", text, re.S)
    assert m, "README has no python-example block"
    code = m.group(1)
    assert len(code.strip().splitlines()) <= 10
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0] == "exit code 0 []"
    assert any(re.fullmatch(r"preserved 0x[0-9a-f]+ order 9", l) for l in lines[1:])
