"""The notebook front end: the ``%bodhi`` magic and its Tab completion (widgets come in
later issues)."""
