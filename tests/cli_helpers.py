"""Running `bnnmram` subcommands in-process from tests."""
import pytest

from bnnmram.gen.cli import main


def run_cli(argv) -> int:
    """Exit code of `bnnmram ARGV` (it always exits via SystemExit)."""
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in argv])
    return e.value.code
