"""The CLI group and its shared helpers: help, budgets like 4/255, atomic outputs."""

import click
import pytest
from click.testing import CliRunner

from alpr.cli import SUBCOMMANDS, main
from alpr.cli.common import FractionType, UserError, atomic_path, parse_fraction


def test_help_lists_every_subcommand_that_exists():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("recognize", "evaluate"):
        assert name in result.output
    for name in main.list_commands(None):
        assert name in SUBCOMMANDS and name in result.output


def test_bare_alpr_prints_the_whole_help():
    result = CliRunner().invoke(main, [])
    assert result.exit_code in (0, 2)  # click 8.1 exits 0 here, 8.2 and later 2
    assert not result.output.startswith("Error") and "Commands:" in result.output
    assert len(result.output.splitlines()) > 10 and "recognize" in result.output


def test_unknown_subcommand_is_a_usage_error():
    result = CliRunner().invoke(main, ["frobnicate"])
    assert result.exit_code == 2 and "No such command" in result.output


@pytest.mark.parametrize("text, value", [("4/255", 4 / 255), ("0.5", 0.5), (" 32/255 ", 32 / 255), ("0", 0.0)])
def test_parse_fraction(text, value):
    assert parse_fraction(text) == pytest.approx(value)


@pytest.mark.parametrize("text, message", [("abc", "expected a number"), ("1/0", "expected a number"), ("-1/255", ">= 0")])
def test_parse_fraction_errors(text, message):
    with pytest.raises(UserError, match=message):
        parse_fraction(text, name="eps", low=0.0)


def test_fraction_type_in_a_command():
    @click.command()
    @click.option("--eps", type=FractionType(low=0, high=1))
    def cmd(eps):
        click.echo(f"{eps:.4f}")

    assert CliRunner().invoke(cmd, ["--eps", "8/255"]).output.strip() == f"{8 / 255:.4f}"
    bad = CliRunner().invoke(cmd, ["--eps", "2"])
    assert bad.exit_code == 2 and "<= 1" in bad.output


def test_atomic_path_keeps_old_file_on_failure_and_refuses_overwrite(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    with pytest.raises(UserError, match="--force"):
        with atomic_path(target, force=False):
            pass
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
