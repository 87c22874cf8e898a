# Le registre (bodhi_nb.app) et les mots de la couche des commandes (issue 9).
# { $prog } vaut `%bodhi` dans un notebook et `bodhi` dans un terminal.

app_service_error-overrides_conflict = Le registre de { $home } a déjà été construit avec d'autres réglages ({ $keys }). Lancez d'abord `from bodhi_nb.app import reset_apps; reset_apps()`, ou construisez votre propre registre avec `build_app_service` de `bodhi_nb.app`.
