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
