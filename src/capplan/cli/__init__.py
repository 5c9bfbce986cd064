"""The command-line shell: thin typer adapters over library functions."""
