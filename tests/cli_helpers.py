"""Running `bnnmram` subcommands in-process from tests, and the bad-input contract."""
from pathlib import Path

import pytest

from bnnmram.gen.cli import main


def run_cli(argv) -> int:
    """Exit code of `bnnmram ARGV` (it always exits via SystemExit)."""
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in argv])
    return e.value.code


def run_cli_err(capsys, argv) -> tuple[int, str]:
    """(exit code, stderr) of `bnnmram ARGV`."""
    code = run_cli(argv)
    return code, capsys.readouterr().err


def snapshot(root: Path) -> dict:
    """Every file under root with its bytes, every folder as None (to prove nothing was
    written, created or changed)."""
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}


def assert_one_line_error(code, err, sub, expect):
    """Exit code 2, no traceback, exactly one line `bnnmram SUB: error: ...` holding `expect`."""
    lines = [l for l in err.splitlines() if l.strip()]
    assert code == 2, (code, err)
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"bnnmram {sub}: error: ") or lines[0].startswith("bnnmram: error: "), lines
    assert expect in lines[0], (expect, lines[0])
