"""``python -m capplan`` runs the command line, like the ``capplan`` script."""

from capplan.cli.main import main

main()
