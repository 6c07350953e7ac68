"""The Typer front end. No torch at module scope: heavy imports happen inside command bodies."""
