# Le widget de connexion par code et le panneau de connexion (bodhi_nb/ui/login_panel.py), `panel login`.
# { $prog } vaut `%bodhi` dans un notebook et `bodhi` dans un terminal.

arg-panel-login = qui est connecté ; se connecter avec un code ou dans un navigateur, se déconnecter

login-device-link = Ouvrir la page de connexion
login-device-cancelling = annulation…

login-panel-not-logged-in = Non connecté : connectez-vous avec un code (depuis n'importe quelle machine) ou dans un navigateur (sur cette machine).
login-panel-device = Se connecter avec un code
login-panel-browser = Se connecter dans un navigateur
login-panel-browser-waiting = en attente de la connexion dans le navigateur…
login-panel-browser-open = Ouvrez cette adresse dans un navigateur sur la machine du noyau :
login-panel-logout = Se déconnecter
