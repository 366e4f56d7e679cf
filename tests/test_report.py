"""README figures come from files: every benchmark table is rendered by bench/report.py from bench/results/."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"^\**[<>≤≥~≈]?\s*[\d][\d,]*(\.\d+)?\s*(%|ms|s|MB|GB|×|/s)?\**$")


def test_readme_tables_match_the_result_files():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), "--check"], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, "README.md is out of date; run python bench/report.py\n" + proc.stdout[-3000:] \
        + proc.stderr[-2000:]


def test_no_table_of_figures_outside_the_rendered_sections():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    outside = re.sub(r"<!-- bench:([a-z0-9-]+) -->.*?<!-- /bench:\1 -->", "", text, flags=re.S)
    typed = [line for line in outside.splitlines() if line.startswith("|") and not set(line) <= set("|-: ")
             and any(NUMBER.match(cell.strip()) for cell in line.strip("|").split("|"))]
    assert not typed, "figures typed into README tables (render them from bench/results/):\n" + "\n".join(typed)


def test_a_missing_result_renders_as_not_measured(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "bench"))
    import report
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text("a\n<!-- bench:serve -->\nold 48.4 ms\n<!-- /bench:serve -->\nb\n", encoding="utf-8")
    assert report.main(["--readme", str(readme), "--check"]) == 1
    assert report.main(["--readme", str(readme)]) == 0
    body = readme.read_text(encoding="utf-8")
    assert "48.4" not in body and "Not measured at this commit: `python bench/serve.py`" in body
    assert report.main(["--readme", str(readme), "--check"]) == 0
