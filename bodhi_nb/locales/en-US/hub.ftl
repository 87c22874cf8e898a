## Hugging Face Hub and the HF cache (issue 8): a hub that lies, a full disk, a bad endpoint

hub_service_error-bad_metadata = The hub at { $url } sent an invalid { $field } ('{ $value }'), so nothing was written. Check that HF_ENDPOINT names a Hugging Face Hub you trust (`{ $prog } settings HF_ENDPOINT`).
hub_service_error-unverifiable_file = { $filename } in { $repo } is a large (LFS) file, but the hub at { $url } gave no SHA-256 to check it against, so it was not downloaded. Check that HF_ENDPOINT names a Hugging Face Hub you trust (`{ $prog } settings HF_ENDPOINT`).
hub_service_error-unsafe_path = Refused to write { $path }: it lies outside the cache folder { $base }. Check that HF_ENDPOINT names a Hugging Face Hub you trust (`{ $prog } settings HF_ENDPOINT`).
hub_service_error-bad_response = { $url } did not answer like a Hugging Face Hub ({ $reason }). Check HF_ENDPOINT (`{ $prog } settings HF_ENDPOINT`); the default is https://huggingface.co.
hub_service_error-invalid_endpoint = HF_ENDPOINT '{ $url }' is not usable: { $reason }. Set an http(s) URL such as https://huggingface.co with `{ $prog } settings HF_ENDPOINT URL`.
hub_service_error-no_space = No space left on { $path }; the partial download { $partial } holds { $size }. Free some space and run the same pull again to resume, or remove partial files with `{ $prog } rm --partials`.
hub_service_error-cannot_write = Cannot write { $path }: { $reason }. Make the Hugging Face cache writable, or point HF_HOME at a writable folder (`{ $prog } settings HF_HOME PATH`).
hub_service_error-cached_file_truncated = The cached { $filename } from { $repo } is { $size } bytes but the Hub says { $expected } ({ $path }). Download it again with `{ $prog } pull { $repo } { $filename } --force`.

## `pull --dry-run` actions this area added (other actions: see the pull command)

hub-would-download-again = would download again
hub-truncated-in-cache = truncated in the cache ({ $size } of { $expected } bytes); { $next }
hub-add-force = add --force

## pull: a repository's files, a dry run, a pull (issue 8 item 26)

hub-files-title = GGUF files in { $repo } ({ $revision })
hub-files-empty = (no .gguf files)
hub-files-hint = Pull one with `{ $prog } pull { $repo }:QUANT` or `{ $prog } pull { $repo } FILE`.
hub-dry-run-title = { $repo } @ { $revision } (dry run)
hub-in-cache = already in the cache
hub-would-download = would download
hub-downloaded = downloaded
hub-started-in-background = started in the background
hub-alias-created = alias { $alias } -> { $repo }/{ $filename }
hub-background-hint = `{ $prog } downloads` shows progress

# What a download says while it runs (a notice of the hub service, shown by the front end).
hub-discarded-partial = { $filename }: the bytes on disk did not match the Hub's checksum; discarded them and downloading again from the start
hub-resuming = { $filename }: connection lost at { NUMBER($bytes) } bytes ({ $reason }); resuming
hub-no-ranges = { $filename }: the server does not send byte ranges; continuing over one connection

## rm

hub-rm-no-partials = (no partial downloads)
hub-rm-needs-ref = give a model or --partials
hub-rm-no-match = nothing to remove: no local file matches { $ref }
hub-rm-confirm = Remove { $count } file(s), { $size }: { $files }?
hub-rm-needs-yes = add -y to confirm
hub-rm-nothing-removed = nothing removed
hub-rm-title = Removed
hub-freed = freed { $size }

## table headings and argument help of pull and rm

col-action = action
col-id = id
col-status = status
col-path = path
col-removed_partial = removed partial file
arg-pull-ref = owner/repo, owner/repo:QUANT, owner/repo/FILE or hf://owner/repo/FILE
arg-pull-file = the file, when ref is owner/repo
arg-pull-revision = branch, tag or commit
arg-pull-alias = create a model alias for the file on success
arg-pull-dry_run = show what would be downloaded, and its size
arg-pull-background = return at once; `downloads` shows progress
arg-pull-force = download again, even a file already in the cache (a truncated or damaged copy)
arg-pull-connections = how many connections download one large file (default: the BODHI_PULL_CONNECTIONS setting; 1: one stream)
hub-bad-connections = --connections must be a whole number from 1 to 32, not { $value }
arg-rm-ref = owner/repo, owner/repo:QUANT or owner/repo/FILE
arg-rm-file = the file, when ref is owner/repo
arg-rm-partials = remove partial files of interrupted downloads
arg-rm-yes = do not ask
