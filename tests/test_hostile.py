"""Hostile input (issue 15): every class and every example of the issue, one test each.

Each hostile input ends either in a one-line message naming the field (or file), its value
(capped) and what is valid, with exit 2 from the CLI, or, for a valid input, in the exact
figures derived by hand below. Every CLI case runs in its own process under a time bound
(:data:`BOUND` seconds, killed past it) and a memory bound: the child's address space is
capped (so a runaway allocation fails in the child instead of swapping the machine) and its
peak resident memory must stay under :data:`MAX_RSS`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sympy

import archcalc
from archcalc import ArchcalcError

#: seconds a hostile input may take (issue 15: "no hostile input of up to a few kB takes more
#: than 20 s or 2 GiB on 2 cores")
BOUND = 20.0
#: the most resident memory a hostile input may take
MAX_RSS = 2 * 2**30
#: address-space cap of a child that does not import torch (Python + archcalc reserve well
#: under 1 GiB of it); a child past it fails to allocate instead of swapping the machine
AS_ANALYTIC = 3 * 2**30
#: address-space cap of a child that imports torch (torch alone reserves about 3.3 GiB)
AS_TORCH = 8 * 2**30

HAS_TORCH = True
try:  # a test of the torch commands needs torch; the analytic ones never do
    import importlib.util

    HAS_TORCH = importlib.util.find_spec("torch") is not None
except ImportError:  # pragma: no cover
    HAS_TORCH = False
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="needs the torch extra")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

#: the CLI, run as the console script runs it, writing its peak RSS (KiB) to $HOSTILE_RSS.
#: VmHWM is the high-water mark of this program's own memory (reset by exec);
#: getrusage's ru_maxrss would also hold the forking parent's (a large pytest worker)
_MAIN = (
    "import atexit, os, sys\n"
    "def _rss():\n"
    "    with open('/proc/self/status') as s:\n"
    "        kib = next(ln.split()[1] for ln in s if ln.startswith('VmHWM:'))\n"
    "    with open(os.environ['HOSTILE_RSS'], 'w') as f:\n"
    "        f.write(kib)\n"
    "atexit.register(_rss)\n"
    "sys.argv[0] = 'archcalc'\n"
    "from archcalc.cli import main\n"
    "main()\n"
)


@dataclass
class Run:
    rc: int
    out: str
    err: str
    seconds: float
    rss: int  # bytes


def cli(
    *args: str,
    tmp: Path,
    torch: bool = False,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Run:
    """``archcalc *args`` in a child process, bounded in time and memory."""
    rss_file = tmp / f"rss-{time.monotonic_ns()}"
    cap = AS_TORCH if torch else AS_ANALYTIC

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    full_env = {**os.environ, "HOSTILE_RSS": str(rss_file), "COLUMNS": "200", **(env or {})}
    full_env.pop("ARCHCALC_DEBUG", None)
    t0 = time.monotonic()
    try:
        p = subprocess.run(
            [sys.executable, "-c", _MAIN, *args],
            capture_output=True,
            text=True,
            timeout=BOUND,
            env=full_env,
            cwd=cwd or tmp,
            preexec_fn=limit,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"archcalc {' '.join(a[:60] for a in args)}: more than {BOUND} s")
    seconds = time.monotonic() - t0
    rss = int(rss_file.read_text()) * 1024 if rss_file.exists() else -1
    assert seconds <= BOUND
    assert rss <= MAX_RSS, f"peak RSS {rss:,} bytes, over {MAX_RSS:,}"
    return Run(p.returncode, p.stdout, p.stderr, seconds, rss)


def known(owner: str, where: str) -> pytest.MarkDecorator:
    """A case that still fails (issue 15), with the file that has to change and its owner."""
    return pytest.mark.xfail(reason=f"issue 15, open: {where} ({owner})", strict=False)


def refused(r: Run, *parts: str) -> str:
    """Exit 2 with one line on stderr, ``error: ...``, holding every one of ``parts``."""
    assert "Traceback" not in r.err and "internal error" not in r.err, r.err
    assert r.rc == 2, (r.rc, r.out[-500:], r.err[-500:])
    line = r.err.strip()
    assert line.startswith("error: ") and "\n" not in line, line[:600]
    assert len(line) < 400, f"message of {len(line)} characters: {line[:200]}..."
    for part in parts:
        assert part in line, f"{part!r} not in {line[:600]!r}"
    return line


def succeeded(r: Run) -> str:
    assert r.rc == 0, (r.rc, r.err[-1000:])
    return r.out


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def spec(layers: str, input: str = "[3, 8, 8]", extra: str = "") -> str:
    return f"name: m\ninput: {input}\n{extra}layers:\n{layers}"


# ---------------------------------------------------------------- tiny input, unbounded work

#: nine levels of nine aliases ("billion laughs"): 9^9 = 387,420,489 strings from 400 bytes
LAUGHS = "x:\n  a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"  {b}: &{b} [{','.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi")
)


@pytest.mark.parametrize(
    "where",
    [
        "name: m\ninput: [3, 8, 8]\ndescription: *i\nlayers:\n  - {kind: ReLU}\n",
        "name: m\ninput: [3, 8, 8]\nlayers:\n  - *i\n",
        "name: m\ninput: *i\nlayers:\n  - {kind: ReLU}\n",
    ],
    ids=["description", "layer", "input"],
)
def test_yaml_alias_bomb_is_refused_at_the_alias_limit(tmp_path, where):
    bomb = write(tmp_path, "bomb.yaml", LAUGHS + where)
    assert bomb.stat().st_size < 1024
    r = cli("summary", str(bomb), tmp=tmp_path)
    refused(r, "bomb.yaml", "aliases expand to more than 100,000 nodes", "ARCHCALC_MAX_ALIAS_NODES")


@pytest.mark.parametrize(
    "args, flag",
    [
        (["sweep", "--budget", "1e999999999"], "--budget = '1e999999999'"),
        (["finetune", "alexnet", "--lr0", "1e999999999"], "--lr0 = '1e999999999'"),
        (["finetune", "alexnet", "--alpha", "1e-999999999"], "--alpha = '1e-999999999'"),
    ],
    ids=["sweep-budget", "finetune-lr0", "finetune-alpha"],
)
def test_huge_exponents_are_refused_before_the_number_is_built(tmp_path, args, flag):
    r = cli(*args, tmp=tmp_path)
    refused(r, flag, "order of magnitude", "over the limit 300", "ARCHCALC_LIMIT_EXPONENT")


def test_sweep_range_is_counted_before_it_is_expanded(tmp_path):
    r = cli("sweep", "--depth", "1:100000000", tmp=tmp_path)
    # 1:100000000 holds 100,000,000 depths, past the sweep limit of 10,000,000 configurations
    refused(r, "--depth = '1:100000000'", "100,000,000 values", "limit 10,000,000")


def test_schedule_of_two_to_the_32_is_exact_and_quick(tmp_path):
    r = cli(
        "schedule", "--input", "4294967296", "--final", "1", "--layers", "2", "--top", "1",
        tmp=tmp_path,
    )  # fmt: skip
    out = succeeded(r)
    # two strides whose product is 2^32 / 1: (2^a, 2^(32-a)) for a = 0..32, 33 schedules
    assert "schedules: 33" in out
    # 3 -> 64 -> 64 channels, 3x3 kernels with bias: (3·9 + 1)·64 + (64·9 + 1)·64
    assert f"{(3 * 9 + 1) * 64 + (64 * 9 + 1) * 64:,}" in out  # 38,720


def test_schedule_divisors_of_a_large_prime_on_the_error_path(tmp_path):
    # 1,000,000,007 is prime (and 7 · 142,857,143 = 1,000,000,001, remainder 6): 7 does not
    # divide it; the valid finals are its divisors, 1 and itself
    r = cli("schedule", "--input", "1000000007", "--final", "7", tmp=tmp_path)
    refused(r, "--final = 7", "valid: 1, 1000000007")


def test_transposed_convolution_of_kernel_100000_on_1x1(tmp_path):
    model = write(
        tmp_path,
        "ct.yaml",
        spec(
            "  - {kind: ConvTranspose2d, in_channels: 3, out_channels: 3, kernel_size: 100000,"
            " stride: 100000}\n",
            input="[3, 1, 1]",
        ),
    )
    d = json.loads(succeeded(cli("summary", str(model), "--format", "json", tmp=tmp_path)))
    k = 100_000
    # H_out = (H_in − 1)·stride + kernel = 0 + 100,000
    assert d["output_shape"] == [3, k, k]
    # weight C_in·C_out·k·k, bias C_out
    assert d["params"] == 3 * 3 * k * k + 3
    # every input scattered into a kernel: C_in·H_in·W_in · C_out·k·k; FLOPs 2·MACs
    assert d["macs"] == 3 * 1 * 1 * 3 * k * k
    assert d["flops"] == 2 * 3 * 3 * k * k


def test_adaptive_pool_to_10_to_the_8_on_8x8(tmp_path):
    model = write(
        tmp_path, "ap.yaml", spec("  - {kind: AdaptiveAvgPool2d, output_size: 100000000}\n")
    )
    d = json.loads(succeeded(cli("summary", str(model), "--format", "json", tmp=tmp_path)))
    n = 10**8
    assert d["output_shape"] == [3, n, n]
    assert d["params"] == 0 and d["macs"] == 0
    # window i of n over 8 pixels spans [floor(8i/n), ceil(8(i+1)/n)): n = 8 · 12,500,000, so
    # every window is one pixel; FLOPs = the sum of window sizes = 3 · n · n · (1 · 1)
    assert d["flops"] == 3 * n * n


@needs_torch
def test_factory_traced_at_8192_squared_stays_in_bounds(tmp_path):
    write(
        tmp_path,
        "f.py",
        "import torch.nn as nn\n"
        "def big():\n"
        "    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())\n",
    )
    r = cli(
        "summary", "f.py:big", "--input", "3x8192x8192", "--format", "json", tmp=tmp_path,
        torch=True,
    )  # fmt: skip
    d = json.loads(succeeded(r))
    n = 8192
    assert d["output_shape"] == [8, n, n]  # 3x3, padding 1, stride 1: n + 2 − 3 + 1 = n
    assert d["params"] == (3 * 3 * 3 + 1) * 8  # 224
    assert d["macs"] == 8 * n * n * 3 * 3 * 3  # C_out·H·W · C_in·k·k


@needs_torch
@pytest.mark.parametrize(
    "args, value",
    [
        (["--input", "3x65536x65536"], "3x65536x65536"),
        (["--input", "3x224x224", "--batch", "100000"], "100000"),
    ],
    ids=["input", "batch"],
)
def test_check_refuses_a_huge_allocation_before_making_it(tmp_path, args, value):
    r = cli("check", "alexnet", *args, tmp=tmp_path, torch=True)
    refused(r, value, "2,147,483,648", "ARCHCALC_CHECK_MAX_BYTES")


@needs_torch
def test_check_allocation_limit_is_configurable(tmp_path):
    # alexnet at 3x64x64 needs a few MB of activations but 61 M parameters (244 MB): a limit
    # of 1,000,000 bytes refuses it, naming the limit it was given
    r = cli(
        "check", "alexnet", "--input", "3x64x64", "--no-rf", tmp=tmp_path, torch=True,
        env={"ARCHCALC_CHECK_MAX_BYTES": "1000000"},
    )  # fmt: skip
    refused(r, "1,000,000", "ARCHCALC_CHECK_MAX_BYTES")
    r = cli("check", "alexnet", tmp=tmp_path, torch=True, env={"ARCHCALC_CHECK_MAX_BYTES": "lots"})
    refused(r, "ARCHCALC_CHECK_MAX_BYTES = 'lots'", "a positive integer")


# ---------------------------------------------------------------- invalid input accepted


@pytest.mark.parametrize(
    "layer, expected",
    [
        (
            "{kind: Linear, in_features: 10, out_features: 10, bias: 'false'}",
            "Linear.bias = 'false': must be true or false",
        ),
        (
            "{kind: ConvTranspose2d, in_channels: 3, out_channels: 3, kernel_size: 2,"
            " stride: 2, bias: 'false'}",
            "ConvTranspose2d.bias = 'false': must be true or false",
        ),
        ("{kind: LeakyReLU, negative_slope: abc}", "LeakyReLU.negative_slope = 'abc'"),
    ],
    ids=["linear-bias", "convtranspose-bias", "leaky-slope"],
)
def test_field_of_the_wrong_type_is_refused(tmp_path, layer, expected):
    inp = "[10]" if "Linear" in layer else "[3, 8, 8]"
    model = write(tmp_path, "m.yaml", spec(f"  - {layer}\n", input=inp))
    refused(cli("summary", str(model), tmp=tmp_path), "m.yaml", "layer 0", expected)


def test_duplicate_yaml_key_is_refused(tmp_path):
    model = write(
        tmp_path,
        "dup.yaml",
        spec(
            "  - {kind: Conv2d, in_channels: 3, out_channels: 8, kernel_size: 3, kernel_size: 5}\n"
        ),
    )
    refused(cli("summary", str(model), tmp=tmp_path), "dup.yaml", "'kernel_size'", "twice")


def test_duplicate_json_key_is_refused(tmp_path):
    model = write(
        tmp_path,
        "dup.json",
        '{"name": "m", "name": "n", "input": [3, 8, 8], "layers": [{"kind": "ReLU"}]}',
    )
    refused(cli("summary", str(model), tmp=tmp_path), "dup.json", "name", "twice")


def test_output_input_selects_no_layer(tmp_path):
    model = write(
        tmp_path,
        "o.yaml",
        spec(
            "  - {kind: Conv2d, in_channels: 3, out_channels: 8, kernel_size: 3}\n",
            extra="output: input\n",
        ),
    )
    refused(cli("summary", str(model), tmp=tmp_path), "o.yaml", "output = 'input'", "name a layer")


@pytest.mark.parametrize("top", ["-1", "0"])
def test_schedule_top_must_be_positive(tmp_path, top):
    r = cli("schedule", "--top", top, tmp=tmp_path)
    refused(r, f"--top = {top}", "positive integer")


def test_docs_into_an_empty_target_is_refused(tmp_path):
    r = cli("docs", "", tmp=tmp_path)
    refused(r, "''", "empty")
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("rss-")) == []


@needs_torch
def test_factory_raising_systemexit_is_the_factorys_failure(tmp_path):
    write(tmp_path, "f.py", "def exits():\n    raise SystemExit(0)\n")
    r = cli("summary", "f.py:exits", tmp=tmp_path, torch=True)
    refused(r, "f.py:exits", "sys.exit(0)")


def test_api_sequential_input_of_rank_2_is_not_reread_as_chw():
    # (3, 8) is a 3x8 map without channels or a 3-channel 8-vector, never C=3, H×W=3×8
    m = archcalc.sequential("v", [archcalc.Conv2d(3, 8, 3)], input_shape=(3, 8))
    with pytest.raises(ArchcalcError, match=r"Conv2d.*3x8") as e:
        archcalc.summary(m)
    assert isinstance(e.value, ValueError) and e.value.layer_index == 0


def test_api_linear_bias_string_is_refused():
    with pytest.raises(ArchcalcError, match=r"^Linear\.bias = 'no': must be true or false") as e:
        archcalc.Linear(10, 10, bias="no")  # type: ignore[arg-type]
    assert isinstance(e.value, (TypeError, ValueError))


# ---------------------------------------------------------------- internal errors


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--input", "3x²x224"], "--input = '3x²x224'"),
        (["--batch", "³"], "--batch = '³'"),
    ],
    ids=["input", "batch"],
)
def test_superscript_digits_are_refused(tmp_path, args, expected):
    r = cli("summary", "alexnet", *args, tmp=tmp_path)
    refused(r, expected, "digits 0-9")


def test_sizes_past_the_int_to_str_digit_limit_print_exactly(tmp_path):
    model = write(
        tmp_path,
        "one.yaml",
        spec("  - {kind: Conv2d, in_channels: 1, out_channels: 1, kernel_size: 1}\n", "[1, 8, 8]"),
    )
    n = 10**2200  # 2,201 digits; n·n has 4,401, past Python's default limit of 4,300
    size = "1" + "0" * 2200
    r = cli("summary", str(model), "--input", f"1x{size}x{size}", "--format", "json", tmp=tmp_path)
    out = succeeded(r)
    # 1x1 conv, 1 -> 1 channel: MACs = H·W = n², FLOPs = 2·MACs, output bytes 4·n²,
    # peak = input + output = 2 · 4·n²
    assert f'"macs": 1{"0" * 4400},' in out
    assert f'"flops": 2{"0" * 4400},' in out
    assert f'"peak_inference_bytes": 8{"0" * 4400},' in out
    assert '"params": 2,' in out
    assert n * n == 10**4400


def test_sizes_past_the_int_to_str_digit_limit_print_exactly_in_a_table(tmp_path):
    model = write(
        tmp_path,
        "one.yaml",
        spec("  - {kind: Conv2d, in_channels: 1, out_channels: 1, kernel_size: 1}\n", "[1, 8, 8]"),
    )
    size = "1" + "0" * 2200
    table = succeeded(cli("summary", str(model), "--input", f"1x{size}x{size}", tmp=tmp_path))
    # the MACs, H·W = 10^2200 · 10^2200 = 10^4400: 4,401 digits = 1,467 groups of three,
    # "100" then 1,466 times ",000"
    footer = table.replace("\n", "")  # long footer lines wrap at the terminal's width
    assert f"multiply-accumulates): 100{',000' * 1466} (1.00e4382 EMACs)" in footer


def test_a_batch_of_5001_digits_prints_exactly(tmp_path):
    b = 10**5000  # written "1" and 5,000 zeros (str() of it passes Python's digit limit)
    r = cli("summary", "alexnet", "--batch", "1" + "0" * 5000, tmp=tmp_path)
    out = succeeded(r).replace("\n", "").replace(",", "")
    # alexnet's default input 3x224x224 in float32: 3·224·224·4 = 602,112 bytes a sample,
    # times b = 10^5000 (written without str(): 5,007 digits)
    assert 3 * 224 * 224 * 4 * b == 602_112 * 10**5000
    assert "input bytes: 602112" + "0" * 5000 + " (" in out


def test_fit_memory_of_thousands_of_digits_is_bounded(tmp_path):
    big = "1" + "0" * 4000
    r = cli("fit", "alexnet", "--memory", big, "--solve", "input", tmp=tmp_path)
    refused(r, "--memory", "(4,003 characters)", "beyond 65536x65536")
    refused(cli("fit", "alexnet", "--memory", "1e999", tmp=tmp_path), "--memory = '1e999'", "24GiB")


def test_features_as_a_list_is_refused(tmp_path):
    model = write(
        tmp_path,
        "feat.yaml",
        spec(
            "  - {name: c, kind: Conv2d, in_channels: 3, out_channels: 8, kernel_size: 3}\n",
            extra="features: [c]\n",
        ),
    )
    refused(cli("summary", str(model), tmp=tmp_path), "feat.yaml", "features = ['c']", "a string")


def test_non_utf8_spec_is_refused(tmp_path):
    p = tmp_path / "latin1.yaml"
    p.write_bytes(b"name: caf\xe9\ninput: [3, 8, 8]\nlayers:\n  - {kind: ReLU}\n")
    # 'name: caf' is 9 bytes: the 0xe9 of Latin-1's é is at offset 9
    refused(cli("summary", str(p), tmp=tmp_path), "latin1.yaml", "not UTF-8", "0xe9", "offset 9")


@pytest.mark.parametrize("what", ["missing", "directory", "fifo", "too-large"])
def test_spec_file_conditions(tmp_path, what):
    p = tmp_path / "net.yaml"
    env = {}
    expected: tuple[str, ...]
    if what == "missing":
        expected = ("net.yaml", "no such file")
    elif what == "directory":
        p.mkdir()
        expected = ("net.yaml", "is a directory")
    elif what == "fifo":
        os.mkfifo(p)
        expected = ("net.yaml", "FIFO")
    else:
        write(tmp_path, "net.yaml", spec("  - {kind: ReLU}\n"))
        env = {"ARCHCALC_MAX_SPEC_BYTES": "10"}
        expected = ("net.yaml", f"{p.stat().st_size:,} bytes", "limited to 10 bytes")
    refused(cli("summary", str(p), tmp=tmp_path, env=env), *expected)


def test_unreadable_spec(tmp_path, monkeypatch):
    p = write(tmp_path, "net.yaml", spec("  - {kind: ReLU}\n"))
    if not IS_ROOT:
        p.chmod(0)
        refused(cli("summary", str(p), tmp=tmp_path), "net.yaml", "cannot be read")
        return
    # root reads any file: fail the open in process instead
    from typer.testing import CliRunner

    from archcalc.cli import app

    real_open = Path.open

    def deny(self: Path, *a: Any, **k: Any) -> Any:
        if self.name == "net.yaml":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *a, **k)

    monkeypatch.setattr(Path, "open", deny)
    r = CliRunner().invoke(app, ["summary", str(p)])
    assert r.exit_code == 2, r.output
    msg = r.output.strip()
    assert "\n" not in msg and "net.yaml" in msg and "cannot be read: Permission denied" in msg


MARKUP = spec(
    '  - {name: "[/]", kind: ReLU}\n'
    '  - {name: "[red]evil[/red]", kind: ReLU}\n'
    '  - {name: "a|b", kind: ReLU}\n'
    "  - {name: 'x,\"y', kind: ReLU}\n"
)


def test_names_with_rich_markup_print_literally(tmp_path):
    model = write(tmp_path, "mk.yaml", MARKUP)
    out = succeeded(cli("summary", str(model), tmp=tmp_path))
    assert "[/]" in out and "[red]evil[/red]" in out


def test_names_in_markdown_tables_are_escaped(tmp_path):
    model = write(tmp_path, "mk.yaml", MARKUP)
    out = succeeded(cli("summary", str(model), "--format", "markdown", tmp=tmp_path))
    rows = [line for line in out.splitlines() if line.startswith("|")]
    header = rows[0]
    width = header.count("|") - header.count("\\|")
    assert any("a\\|b" in row for row in rows)
    for row in rows:  # an unescaped | would add a column
        assert row.count("|") - row.count("\\|") == width, row


def test_names_in_csv_round_trip(tmp_path):
    model = write(tmp_path, "mk.yaml", MARKUP)
    out = succeeded(cli("summary", str(model), "--format", "csv", tmp=tmp_path))
    rows = list(csv.reader(io.StringIO(out)))
    names = {cell for row in rows for cell in row}
    assert {"[/]", "[red]evil[/red]", "a|b", 'x,"y'} <= names
    widths = {len(row) for row in rows if row}
    assert len(widths) == 1, widths


def test_docs_into_a_file(tmp_path):
    write(tmp_path, "afile", "mine\n")
    refused(cli("docs", "afile", tmp=tmp_path), "'afile'", "is a file, not a folder")
    assert (tmp_path / "afile").read_text() == "mine\n"


def test_docs_over_a_file_named_models(tmp_path):
    (tmp_path / "out").mkdir()
    write(tmp_path, "out/models", "mine\n")
    refused(cli("docs", "out", tmp=tmp_path), "'out'", "holds a file named 'models'")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["models"]


def test_docs_into_a_read_only_folder(tmp_path, monkeypatch):
    target = tmp_path / "ro"
    target.mkdir()
    if not IS_ROOT:
        target.chmod(0o555)
        try:
            r = cli("docs", "ro", tmp=tmp_path)
        finally:
            target.chmod(0o755)
        refused(r, "ro", "cannot write", "Permission denied")
        return
    # root writes anywhere: fail the writes in process instead
    from typer.testing import CliRunner

    from archcalc.cli import app

    def deny(self: Path, *a: Any, **k: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "write_text", deny)
    monkeypatch.setattr(Path, "write_bytes", deny)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["docs", "ro"])
    assert r.exit_code == 2, r.output
    msg = r.output.strip()
    assert "\n" not in msg and "ro/" in msg and "cannot write: Permission denied" in msg


# ---------------------------------------------------------------- wrong exceptions from the API


def test_api_dtype_of_the_wrong_type():
    with pytest.raises(ArchcalcError, match=r"^dtype = \['float32'\]: must be one of ") as e:
        archcalc.summary("alexnet", dtype=["float32"])  # type: ignore[arg-type]
    assert e.value.argument == "dtype"
    assert "float32" in str(e.value.valid)
    assert isinstance(e.value, (TypeError, ValueError))


@pytest.mark.parametrize("bad", [5, "ReLU", None], ids=["int", "str", "none"])
def test_api_sequential_with_a_non_layer(bad):
    with pytest.raises(ArchcalcError, match=r"layer 1 .*is not a layer spec") as e:
        archcalc.sequential("x", [archcalc.ReLU(), bad])  # type: ignore[list-item]
    assert e.value.layer_index == 1
    assert e.value.has_value and e.value.value == bad
    assert isinstance(e.value, (TypeError, ValueError))


def test_api_model_from_dict_with_a_list_in_features():
    from archcalc.load.specfile import model_from_dict

    d = {
        "name": "m",
        "input": [3, 8, 8],
        "layers": [{"name": "c", "kind": "Conv2d", "in_channels": 3, "out_channels": 8,
                    "kernel_size": 3}],
        "features": ["c"],
    }  # fmt: skip
    with pytest.raises(ArchcalcError, match=r"features = \['c'\]: must be a string") as e:
        model_from_dict(d)
    assert isinstance(e.value, (TypeError, ValueError))


def test_api_symbolic_kernel_gives_exact_symbolic_figures():
    k = sympy.Symbol("k", integer=True, positive=True)
    s = archcalc.summary(
        archcalc.sequential("s", [archcalc.Conv2d(3, 8, k)], input_shape=(3, 32, 32))
    )
    # weight 8·3·k·k, bias 8; output side 32 − k + 1 = 33 − k; MACs = 8·(33 − k)² · 3·k²
    assert sympy.simplify(s.params - (24 * k**2 + 8)) == 0
    for kk in (1, 3, 5, 32):
        side = 33 - kk
        assert s.output_shape[0] == 8
        assert s.output_shape[1].subs(k, kk) == side
        assert s.macs.subs(k, kk) == 8 * side * side * 3 * kk * kk


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"batch": 0}, "batch"),
        ({"batch": -3}, "batch"),
        ({"classes": "x"}, "classes"),
        ({"head": 5}, "head"),
        ({"convention": ["fvcore"]}, "convention"),
    ],
    ids=["batch-0", "batch-neg", "classes", "head", "convention"],
)
def test_api_bad_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ArchcalcError) as e:
        archcalc.summary("alexnet", **kwargs)
    assert e.value.argument == argument, str(e.value)
    assert str(e.value).startswith(f"{argument} = ")
    assert isinstance(e.value, (TypeError, ValueError))


def test_api_model_of_the_wrong_type():
    with pytest.raises(
        ArchcalcError,
        match=r"^model = 5: give a zoo name, a spec file, path/to/file.py:factory or a Model",
    ):
        archcalc.summary(5)  # type: ignore[arg-type]


# ---------------------------------------------------------------- output integrity


def test_finetune_csv_is_one_table(tmp_path):
    out = succeeded(cli("finetune", "alexnet", "--freeze", "3", "--format", "csv", tmp=tmp_path))
    rows = [row for row in csv.reader(io.StringIO(out)) if row]
    assert len(rows) > 2
    assert len({len(row) for row in rows}) == 1, {len(row) for row in rows}


LONG = "x" * 100_000


@pytest.mark.parametrize(
    "args, subject",
    [
        (["summary", "alexnet", "--dtype", LONG], "--dtype"),
        (["summary", "alexnet", "--input", LONG], "--input"),
        (["summary", "alexnet", "--head", LONG], "--head"),
        (["sweep", "--depth", LONG], "--depth"),
    ],
    ids=["dtype", "input", "head", "sweep-depth"],
)
def test_long_values_are_echoed_capped(tmp_path, args, subject):
    line = refused(cli(*args, tmp=tmp_path), subject, "(100,002 characters)")
    assert len(line) < 400


def test_long_field_value_in_a_spec_is_echoed_capped(tmp_path):
    model = write(tmp_path, "long.yaml", spec(f"  - {{kind: LeakyReLU, negative_slope: {LONG}}}\n"))
    refused(
        cli("summary", str(model), tmp=tmp_path),
        "long.yaml",
        "LeakyReLU.negative_slope",
        "(100,002 characters)",
    )
