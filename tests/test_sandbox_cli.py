"""`gome exec`, the unit parsers and the runtime description, as a user meets them."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from importlib import metadata

import pytest
from test_sandbox_support import make_task, write_solution

from gome.errors import ConfigError
from gome.sandbox.outcome import Limits
from gome.sandbox.runtime import describe_runtime
from gome.sandbox.units import parse_duration, parse_size_mb


def _gome(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gome.cli.app", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("10m", 600), ("1h", 3600), ("1h30m", 5400), ("1.5h", 5400), ("45", 45),
    ("250ms", 0.25), (" 2 min ", 120),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(("text", "mb"), [
    ("512M", 512), ("4G", 4096), ("4gb", 4096), ("1.5g", 1536), ("2048", 2048), ("1T", 2**20),
    ("100k", 1),
])
def test_parse_size_mb(text, mb):
    assert parse_size_mb(text) == mb


@pytest.mark.parametrize("bad", ["", "ten minutes", "10x", "-5s", "0", "1h-"])
def test_bad_duration_is_one_clear_sentence(bad):
    with pytest.raises(ConfigError, match="duration"):
        parse_duration(bad)


@pytest.mark.parametrize("bad", ["", "lots", "4Q", "0M", "-1G"])
def test_bad_size_is_one_clear_sentence(bad):
    with pytest.raises(ConfigError, match="size"):
        parse_size_mb(bad)


def test_describe_runtime_reports_the_interpreter():
    info = describe_runtime()
    assert info.python_version == platform.python_version()
    assert info.cpus >= 1 and info.memory_gb > 0
    assert info.packages["lightgbm"] == metadata.version("lightgbm")
    assert info.packages["numpy"] == metadata.version("numpy")
    assert "torch" not in info.packages or info.packages["torch"]
    text = info.to_prompt(Limits(wall_time_s=600, memory_mb=4096, threads=2))
    assert f"Python {info.python_version}" in text and "lightgbm" in text
    assert "10 min" in text and "4.0 GB" in text and "no network" in text
    assert describe_runtime() == info  # cached, and a copy callers may change


def test_describe_runtime_unknown_interpreter_is_a_config_error():
    with pytest.raises(ConfigError, match="not found"):
        describe_runtime("/no/such/python")


def test_gome_exec_json(tmp_path):
    public = make_task(tmp_path)
    ws = write_solution(tmp_path / "ws", """
        import json, os
        print("GOME_DEBUG", os.environ["GOME_DEBUG"])
        json.dump({"metric": "acc", "score": 0.75}, open("scores.json", "w"))
    """)
    res = _gome("exec", str(ws), "--task", str(public), "--debug", "--time-limit", "30s",
                "--memory", "512M", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["status"] == "ok" and out["scores"]["score"] == 0.75
    assert out["debug"] is True and out["time_limit_s"] == 30
    assert "GOME_DEBUG 1" in out["stdout_tail"]
    assert out["isolation"] in ("bwrap", "none")
    res = _gome("exec", str(ws), "--task", str(public), "--isolation", "none", "--json")
    assert json.loads(res.stdout)["isolation"] == "none"


def test_gome_exec_table_and_failure_exit_code(tmp_path):
    public = make_task(tmp_path)
    ws = write_solution(tmp_path / "ws", "raise RuntimeError('boom in main')\n")
    res = _gome("exec", str(ws), "--task", str(public))
    assert res.returncode == 1
    assert "error" in res.stdout and "RuntimeError: boom in main" in res.stdout
    assert "Traceback" in res.stdout


@pytest.mark.parametrize(("args", "words"), [
    (["exec", "{missing}", "--task", "{public}"], "not a folder"),
    (["exec", "{ws}", "--task", "{public}", "--time-limit", "soon"], "not a duration"),
    (["exec", "{ws}", "--task", "{public}", "--memory", "lots"], "not a size"),
    (["exec", "{ws}", "--task", "{missing}"], "does not exist"),
    (["exec", "{ws}", "--task", "{public}", "--isolation", "docker"], "Unknown sandbox"),
])
def test_gome_exec_bad_input_is_one_line(tmp_path, args, words):
    public = make_task(tmp_path)
    ws = write_solution(tmp_path / "ws", "print('hi')\n")
    paths = {"missing": str(tmp_path / "missing"), "public": str(public), "ws": str(ws)}
    res = _gome(*[a.format(**paths) for a in args])
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in res.stderr
