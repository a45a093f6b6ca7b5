"""``python -m alpr`` runs the ``alpr`` command."""

from alpr.cli import main

main()
