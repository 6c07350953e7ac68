"""rp's own routers (`routers/`) and profile methods (`profiles/`), one object per module, registered through the
same entry points as third-party plugins (pyproject.toml: `rp.routers`, `rp.profiles`)."""
