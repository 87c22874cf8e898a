"""The browser harness itself: what happens without Chromium."""

from __future__ import annotations

import pytest

from bodhi_nb.testing.jupyterlab import BrowserMissingError, Chromium


def test_a_missing_chromium_is_one_line_saying_how_to_install_it() -> None:
    with pytest.raises(BrowserMissingError) as caught:
        Chromium(executable="/nonexistent/chromium")
    message = str(caught.value)
    assert "\n" not in message
    assert "/nonexistent/chromium" in message and "apt-get install -y chromium" in message
