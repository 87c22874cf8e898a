# The offline Hub (issue 9): `hub serve DIR`, `hub stop`, and its errors.

cmd-hub = serve a folder of models as an offline Hugging Face Hub for a classroom: serve DIR, stop
arg-hub-serve = serve a folder of repositories (OWNER/NAME/files); --stop stops it
arg-hub-folder = the folder of repositories, laid out as OWNER/NAME/files
arg-hub-port = the port to listen on (default: any free port)
arg-hub-host = the interface to listen on (0.0.0.0 serves the room)
arg-hub-stop = stop the offline Hub this kernel serves
meta-folder = DIR

offline-hub-serving = Offline Hub serving { $root } ({ $repos ->
    [one] { $repos } repository
   *[other] { $repos } repositories
    }) at { $endpoint }
offline-hub-students = Point students at it: `HF_ENDPOINT={ $endpoint }` (in a terminal: `HF_ENDPOINT={ $endpoint } bodhi pull OWNER/NAME FILE`; in a notebook: `%bodhi settings HF_ENDPOINT { $endpoint }`).
offline-hub-empty = { $root } holds no repositories yet: lay it out as OWNER/NAME/files (a file added later is served at once).
offline-hub-local-only = Only this machine can reach it; `--host 0.0.0.0` serves the room.
offline-hub-background = It runs in the background of this kernel; `{ $prog } hub stop` stops it.
offline-hub-foreground = Serving until Ctrl-C.
offline-hub-stopped = Stopped the offline Hub at { $endpoint }.
offline-hub-stopped-none = No offline Hub was running.
offline-hub-needs-folder = name the folder to serve: `{ $prog } hub serve DIR`
offline-hub-stop-no-folder = `hub stop` takes no folder
offline-hub-bad-port = port { $port } is not between 0 and 65535 (0: any free port)

offline_hub_error-root_not_a_folder = { $path } is not a folder. Serve a folder laid out as OWNER/NAME/files: `{ $prog } hub serve DIR`.
offline_hub_error-port_in_use = Port { $port } on { $host } is already in use by another program. Choose another with `--port`, or leave it out to take any free port.
offline_hub_error-cannot_listen = Cannot listen on { $host } port { $port }: { $reason }. Check `--host` (an address of this machine, or 0.0.0.0) and `--port`.
offline_hub_error-already_serving = An offline Hub already runs here, serving { $root } at { $endpoint }. Stop it first with `{ $prog } hub stop`.
