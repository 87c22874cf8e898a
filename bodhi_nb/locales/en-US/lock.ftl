# Lock files (issue 14): `lock`, `pull --locked`, and their errors.

cmd-lock = pin the models and aliases this notebook used (or those named) in bodhi.lock; `pull --locked` restores them
arg-lock-names = aliases, model aliases (owner/repo:QUANT) or owner/repo/FILE; none: everything this kernel used
arg-lock-out = where to write it (default: BODHI_LOCK_FILE, ./bodhi.lock)
arg-pull-locked = restore the files and aliases of a lock file (default: ./bodhi.lock), each checked against its SHA-256
setting-BODHI_LOCK_FILE = the lock file `lock` writes and `pull --locked` and chat read (relative: to the working folder, a notebook's own)
col-commit = commit
col-sha256 = SHA-256
col-differs = differs in

lock-models-title = Models
lock-aliases-title = Aliases
lock-written = Wrote { $path }: { $models ->
        [one] one model file
       *[other] { $models } model files
    }, { $aliases ->
        [one] one alias
       *[other] { $aliases } aliases
    }.
lock-skipped = left out { $name }: { $error }
lock-restore-hint = `{ $prog } pull --locked` restores them on another machine; while this file is in the working folder, chat with a locked alias uses the lock's file and parameters.
lock-restored-title = Restored from { $path }
lock-status-in-cache = already in the cache, SHA-256 checked
lock-status-downloaded = downloaded, SHA-256 checked
lock-status-created = created
lock-status-same = same as the lock
lock-status-differs = differs (left alone)
lock-alias-differs = The local alias { $alias } differs from the lock in { $fields }; its file is left alone, and chat in this folder uses the lock's. `{ $prog } alias rm { $alias }` then `{ $prog } pull --locked` makes them the same.
lock-pull-no-ref = `pull --locked` restores a lock file; give no model with it

lock_error-malformed = { $path } is not a valid lock file: { $key }: { $reason }. Fix that key, or write the file again with `{ $prog } lock`.
lock_error-unsupported_version = { $path } is a lock file of format version { $version }; this bodhi_nb reads version { $supported }. Upgrade bodhi_nb, or write the file again with `{ $prog } lock`.
lock_error-not_found = No lock file at { $path }. Write one with `{ $prog } lock`, or name it: `{ $prog } pull --locked PATH`.
lock_error-nothing_used = This process has pulled, aliased and chatted with nothing, so there is nothing to lock. Name what to lock: `{ $prog } lock ALIAS_OR_MODEL ...`.
lock_error-unknown_name = '{ $name }' is neither an alias nor a downloaded model (owner/repo:QUANT or owner/repo/FILE). `{ $prog } alias ls` and `{ $prog } ls` list them.
lock_error-api_alias = '{ $name }' is an API alias: its model lives at the provider and cannot be pinned by a lock file. Lock a local alias instead.
lock_error-not_downloaded = Cannot lock '{ $name }': { $repo }/{ $filename } at { $revision } is not in the cache, so it has no commit and SHA-256 to pin. Download it first: `{ $prog } pull { $repo } { $filename } --revision { $revision }`.
lock_error-hash_mismatch = { $model } at commit { $commit } does not match the lock: { $where ->
    [hub] the Hub says its
   *[file] the downloaded file's
    } { $what ->
    [size] size is { $found } bytes, the lock says { $expected }
   *[sha256] SHA-256 is { $found }, the lock says { $expected }
    }. Nothing was kept for it: never a substitute. Check where the lock file came from, or write it again with `{ $prog } lock`.
lock_error-model_missing = { $path } pins the alias { $alias } to { $model } at commit { $commit }, which is not in the cache. Run `{ $prog } pull --locked` first (or remove the lock file to use the local alias).
lock_error-commit_not_found = The Hub no longer has commit { $commit } for { $model }: the lock cannot be restored exactly. Nothing was downloaded. Pull a current revision and write a new lock with `{ $prog } lock`.
