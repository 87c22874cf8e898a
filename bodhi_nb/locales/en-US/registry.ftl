# The registry (bodhi_nb.app) and the command layer's own words (issue 9).
# { $prog } is `%bodhi` in a notebook and `bodhi` in a terminal.

app_service_error-overrides_conflict = The registry for { $home } was already built with other settings ({ $keys }). Run `from bodhi_nb.app import reset_apps; reset_apps()` first, or build a registry of your own with `build_app_service` from `bodhi_nb.app`.
