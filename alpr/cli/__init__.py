"""The ``alpr`` command: one click group, one module per subcommand, imported only when used
(so ``alpr --help`` answers without loading TensorFlow)."""

import importlib
import importlib.util

import click

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


class LazyGroup(click.Group):
    """A click group whose subcommands live in their own modules and load on first use."""

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
    """
