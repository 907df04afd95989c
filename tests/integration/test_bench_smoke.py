"""bench/http-compare --smoke still runs every tool and prints its tables.

The benchmark itself is not a timed test (its numbers depend on the machine);
this only keeps the script from rotting: one short repetition per tool, and a
row per tool in both tables. A tool is left out only when it is not installed.
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import HERD, SOURCE_DIR

SCRIPT = os.path.join(SOURCE_DIR, "bench", "http-compare")


def rows(text, header_start):
    """The data rows of the markdown table whose header starts with `header_start`,
    each a dict from column header to cell, by the row's first cell."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    cells = lambda line: [cell.strip() for cell in line.strip("|").split("|")]  # noqa: E731
    header = cells(lines[start])
    table = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        row = dict(zip(header, cells(line)))
        table[row[header[0]]] = row
    return table


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the benchmark pins server and generator to two CPUs")
def test_smoke_mode_prints_a_row_per_tool(tmp_path):
    out = tmp_path / "bench.md"
    result = subprocess.run([SCRIPT, "--smoke", "--herd", HERD, "--out", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    text = out.read_text()
    assert text in result.stdout  # the same report on stdout
    installed = ["herd"] + [tool for tool in ["wrk", "h2load", "locust"] if shutil.which(tool)]

    throughput = rows(text, "| tool | median RPS")
    assert sorted(throughput) == sorted(installed)
    for tool, row in throughput.items():
        assert float(row["median RPS"].replace(",", "")) > 0, row
        assert row["failures"] == "0", row
        assert float(row["CPU µs per request (median)"]) > 0, row
    assert re.match(r"\d+\.\d\d$", throughput["herd"]["CPU, cores (median)"])

    memory = rows(text, "| tool | connections")
    assert sorted(memory) == sorted(t for t in installed if t != "h2load")
    for tool, row in memory.items():
        assert float(row["per connection, KiB"]) > 0, row  # memory grows with connections
