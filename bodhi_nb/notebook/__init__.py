"""The notebook front end: the ``%bodhi`` magic (widgets come in later issues)."""
