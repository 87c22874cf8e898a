# The batch API and SQL over the chat history (issue 14). { $prog } is `%bodhi` in a
# notebook and `bodhi` in a terminal.

history_error-bad_sql = The history query failed: { $reason }. Query the table `history` (columns: id, thread, alias, model, repo, file, commit, prompt, answer, params, prompt_tokens, completion_tokens, finish_reason, ttft_ms, total_ms, created_at, input_key, ...), e.g. `{ $prog } history --sql "SELECT alias, count(*) FROM history GROUP BY alias"`.
history_error-not_a_query = Only one query runs over the history (SELECT ..., WITH ..., FROM history ...), not { $kind }: the query works on a private copy and nothing is ever written. Write a single SELECT.
arg-history-sql = run a SQL query over the table `history` (a private in-memory copy) and show its result
history-sql-title = history (SQL)
