"""The ``alpr`` command: one click group, one module per subcommand, imported only when used
(so ``alpr --help`` answers without loading TensorFlow).

The group is also where failures become exit codes, once for every subcommand:

====  ==================================================================================
0     success
1     some inputs failed (each reported on its own line; the others were processed)
2     bad usage: invalid argument, missing or unwritable path, existing output without
      ``--force``, unusable model; one line ``Error: ...`` on stderr
3     internal error (a bug): one line on stderr; ``ALPR_DEBUG=1`` shows the traceback
130   interrupted (Ctrl-C): ``interrupted`` on stderr, no traceback
143   terminated (SIGTERM), likewise; temporary files are removed, finished outputs kept
====  ==================================================================================
"""

import importlib
import importlib.util
import os
import signal
import sys
import threading

import click

EXIT_OK, EXIT_FAILED_INPUTS, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 3, 130, 143

# subcommand name -> (module, one-line summary shown by ``alpr --help``)
SUBCOMMANDS = {
    "recognize": ("alpr.cli.recognize", "Read plates on photos or plate crops."),
    "evaluate": ("alpr.cli.evaluate", "Score detection and reading on a labelled dataset."),
    "render": ("alpr.cli.render", "Render synthetic German/Spanish plates and scenes."),
    "train": ("alpr.cli.train", "Train a character CNN on synthetic plates."),
    "attack": ("alpr.cli.attack", "Adversarial attacks on the digit '1' (FGSM, PGD, threshold)."),
    "patch": ("alpr.cli.patch", "Optimise a printable adversarial sticker for the '1'."),
    "harden": ("alpr.cli.harden", "Adversarially retrain a character CNN."),
    "robustness": ("alpr.cli.robustness", "Robustness report of a model across attack budgets."),
}


# click >= 8.2 raises this usage error for a bare ``alpr``; its message is the whole help (click 8.1
# printed the help and exited 0 instead), so it is shown as click shows it, not made one line
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM so that cleanup (``finally``, temporary files) runs."""


def _on_sigterm(signum, frame):
    raise Terminated()


class LazyGroup(click.Group):
    """A click group whose subcommands live in their own modules and load on first use, and which
    turns usage errors into one line, Ctrl-C into exit 130 and unexpected errors into exit 3."""

    def make_context(self, info_name, args, parent=None, **extra):
        """Parse the group's own options; usage errors become one-line errors (exit 2)."""
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except _NO_ARGS_IS_HELP:
            raise
        except click.UsageError as err:
            raise _one_line(err) from None

    def invoke(self, ctx):
        """Run the subcommand, mapping every way it can end to one line and an exit code."""
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            return super().invoke(ctx)
        except click.UsageError as err:
            raise _one_line(err) from None
        except KeyboardInterrupt:
            _say("interrupted")
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except Terminated:
            _say("terminated")
            raise click.exceptions.Exit(EXIT_TERMINATED) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            raise  # click closes quietly when the reader of stdout went away (e.g. `| head`)
        except Exception as err:
            if os.environ.get("ALPR_DEBUG"):
                raise
            _say(f"Error: internal error: {type(err).__name__}: {_first_line(err)} "
                 "(a bug; set ALPR_DEBUG=1 for the traceback)")
            raise click.exceptions.Exit(EXIT_INTERNAL) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def list_commands(self, ctx):
        return [name for name, (module, _) in SUBCOMMANDS.items() if importlib.util.find_spec(module)]

    def get_command(self, ctx, name):
        if name not in SUBCOMMANDS or not importlib.util.find_spec(SUBCOMMANDS[name][0]):
            return None
        return importlib.import_module(SUBCOMMANDS[name][0]).command

    def format_commands(self, ctx, formatter):
        rows = [(name, SUBCOMMANDS[name][1]) for name in self.list_commands(ctx)]
        if not rows:
            return
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _say(text: str) -> None:
    try:
        sys.stdout.flush()
    except Exception:  # noqa: BLE001  (stdout may be a closed pipe)
        pass
    click.echo(text, err=True)


def _one_line(err: click.UsageError):
    """A click usage error as a one-line ``UserError`` (exit 2) pointing at ``--help``."""
    from alpr.cli.common import UserError

    hint = f" (see '{err.ctx.command_path} --help')" if err.ctx is not None else ""
    return UserError(err.format_message() + hint)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="alpr-adversarial")
def main():
    """Licence-plate recognition for German and Spanish plates, with adversarial attacks on the
    digit "1" and hardened models that resist them.

    \b
    Examples:
      alpr recognize data/samples/de_1.jpg
      alpr recognize photos/ --json --country es
      alpr render --country de --count 8 --out /tmp/plates

    \b
    Exit codes: 0 success; 1 some inputs failed (the others were processed);
    2 bad usage (argument, path, existing output without --force, unusable model);
    3 internal error; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
    """
