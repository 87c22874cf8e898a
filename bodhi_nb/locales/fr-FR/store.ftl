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

# `db` (status, migrate, migrate --down N)
cmd-db = la base de données : status, migrate, migrate --down N
arg-db-status = le moteur, où vivent les données, la version du schéma et les migrations en attente
arg-db-migrate = appliquer les migrations en attente, ou défaire les N plus récentes avec --down N
arg-db-migrate-down = défaire les N migrations appliquées les plus récentes (demande d'abord)
arg-db-migrate-yes = ne pas demander
db-status = { $backend } : { $location }, version du schéma { $version } sur { $latest }, { $pending ->
    [0] aucune migration en attente
    [one] 1 migration en attente : lancez `{ $prog } db migrate`
   *[other] { $pending } migrations en attente : lancez `{ $prog } db migrate`
    }.
db-migrations-title = Migrations
db-state-applied = appliquée
db-state-pending = en attente
db-state-undone = défaite
db-up-to-date = La base de données est à jour (version du schéma { $version }).
db-migrated = { $count } migration(s) appliquée(s)
db-undone = { $count } migration(s) défaite(s)
db-down-positive = --down prend un nombre de migrations, 1 ou plus
db-nothing-to-undo = Aucune migration n'est appliquée : rien à défaire.
db-down-confirm = Défaire { $count } migration(s) sur { $location } ({ $names }) ? Leurs tables et leurs lignes sont supprimées.
db-down-needs-yes = ajoutez -y pour confirmer
db-nothing-undone = Rien n'a été défait.
col-applied = appliquée
store-url-next-registry = La base de données est choisie au démarrage d'un noyau : redémarrez le noyau (ou relancez `bodhi`) pour l'utiliser.
