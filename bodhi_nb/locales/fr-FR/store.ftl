# Le socle de stockage (ticket 9) : versions du schéma et PostgreSQL.
# { $prog } vaut `%bodhi` dans un notebook et `bodhi` dans un terminal.

db_error-schema_too_new = La base de données est à la version de schéma { $version }, plus récente que ce que comprend ce bodhi_nb ({ $supported }). Mettez bodhi_nb à jour (`pip install -U bodhi_nb`), ou lancez `{ $prog } db migrate --down` avec la version plus récente.
db_error-bad_url = BODHI_DATABASE_URL { $url } est inutilisable : { $reason }. Utilisez postgresql://UTILISATEUR:MOT_DE_PASSE@HÔTE:PORT/BASE, ou retirez-la pour la base DuckDB intégrée.
db_error-unreachable = Le serveur de base de données { $location } ne répond pas ({ $reason }). Vérifiez qu'il tourne et qu'il est joignable, puis relancez la commande.
db_error-auth_failed = Le serveur de base de données { $location } a refusé l'utilisateur { $user }. Vérifiez le nom et le mot de passe dans BODHI_DATABASE_URL.
db_error-database_missing = Le serveur de base de données { $location } n'a pas de base { $database }. Créez-la (`createdb { $database }`) ou corrigez le nom dans BODHI_DATABASE_URL.
db_error-driver_missing = Le moteur { $backend } a besoin de son pilote Python. Installez-le avec `pip install 'bodhi_nb[{ $extra }]'`.
setting-BODHI_DATABASE_URL = où vivent toutes les tables : vide pour DuckDB sous BODHI_HOME, ou postgresql://UTILISATEUR@HÔTE:PORT/BASE pour une équipe
ui-status-pending-migrations = migrations en attente
