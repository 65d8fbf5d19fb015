"""The `recsys` command line (Typer)."""
