# L'API de lots et le SQL sur l'historique des conversations (issue 14). { $prog } vaut
# `%bodhi` dans un notebook et `bodhi` dans un terminal.

history_error-bad_sql = La requête sur l'historique a échoué : { $reason }. Interrogez la table `history` (colonnes : id, thread, alias, model, repo, file, commit, prompt, answer, params, prompt_tokens, completion_tokens, finish_reason, ttft_ms, total_ms, created_at, input_key, ...), par exemple `{ $prog } history --sql "SELECT alias, count(*) FROM history GROUP BY alias"`.
history_error-not_a_query = Une seule requête s'exécute sur l'historique (SELECT ..., WITH ..., FROM history ...), pas { $kind } : la requête travaille sur une copie privée et rien n'est jamais écrit. Écrivez un seul SELECT.
arg-history-sql = exécuter une requête SQL sur la table `history` (une copie privée en mémoire) et afficher son résultat
history-sql-title = historique (SQL)
