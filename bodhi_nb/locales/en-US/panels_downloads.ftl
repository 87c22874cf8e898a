# The download row, the pull panel and the downloads panel (bodhi_nb/ui, issue 10).
# { $prog } is `%bodhi` in a notebook and `bodhi` in a terminal.

arg-panel-pull = list a Hub repository's GGUF files and pull them, a live row each
arg-panel-downloads = every download request: live progress, retry, archive

# A download row: file, bar, bytes, speed, ETA, Cancel, state.
dl-cancel = Cancel
dl-cancel-tip = Stop this download; its partial file is kept and the next pull resumes it
dl-cancelling = cancelling…
dl-bytes = { $done } / { $total }
dl-speed = { $speed }/s
dl-eta = ETA { $eta }
dl-waiting = waiting…
dl-completed = completed
dl-cancelled = cancelled: Pull again to resume (the partial file is kept)
dl-interrupted = interrupted: pull again to resume (the partial file is kept)
dl-foreground-hint = to stop it, interrupt the kernel (■); pulling again resumes

# The pull panel.
pull-panel-title = Pull GGUF files from the Hub
pull-repo = Repository
pull-repo-placeholder = owner/repo, then Enter
pull-list = List files
pull-pull = Pull
pull-memory = Available memory: { $size }
pull-memory-unknown = Available memory: unknown
pull-fits = fits in memory
pull-too-big = larger than free memory
pull-no-files = { $repo } has no GGUF files.
pull-listed = { $count } GGUF models in { $repo }.
pull-started = { $parts ->
    [one] Pulling { $file }.
   *[other] Pulling { $file } ({ $parts } files).
    }
pull-text = The pull panel lists a repository's GGUF files and pulls them, a live row each (in a terminal: `{ $prog } pull OWNER/REPO` lists them). Downloads so far:
col-fits = fits
col-parts = parts

# The downloads panel.
downloads-panel-retry = Retry
downloads-panel-archive = Archive
downloads-panel-retried = Retrying { $file }.
downloads-panel-archived = Archived { $file }.
downloads-panel-live = Running in this kernel
downloads-panel-progress-live = live, above
downloads-panel-watching = Refreshing every { $seconds } s while a download runs in another kernel.
