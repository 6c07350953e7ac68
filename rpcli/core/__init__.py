"""The headless engine. torch / PyG allowed here; typer, rich and textual never."""
