# The device-login widget and the login panel (bodhi_nb/ui/login_panel.py), `panel login`.
# { $prog } is `%bodhi` in a notebook and `bodhi` in a terminal.

arg-panel-login = who is logged in; log in with a code or in a browser, log out

login-device-link = Open the login page
login-device-cancelling = cancelling…

login-panel-not-logged-in = Not logged in: log in with a code (any machine) or in a browser (this machine).
login-panel-device = Log in with a code
login-panel-browser = Log in in a browser
login-panel-browser-waiting = waiting for the login in the browser…
login-panel-browser-open = Open this address in a browser on the kernel's machine:
login-panel-logout = Log out
