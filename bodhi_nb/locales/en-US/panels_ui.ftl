# The widget panels (bodhi_nb/ui) and the `panel` command.

cmd-panel = open a widget panel (in a terminal: its table)
arg-panel-secrets = stored secrets: set (without echo), delete, rotate the master key
arg-panel-models = local GGUF models: sort, filter, alias, delete

panel-filter = filter…
panel-page-size = per page
panel-previous = ◀ previous
panel-next = next ▶
panel-page = page { $page } of { $pages } · { $rows } of { $total } rows
panel-no-rows = (nothing to show)
panel-yes = Yes
panel-no = No
panel-cancel = Cancel
panel-refresh = Refresh
panel-delete = Delete

panel-secret-name = e.g. HF_TOKEN
panel-secret-name-label = Name
panel-secret-value = value (never shown)
panel-secret-value-label = Value
panel-secret-set = Set
panel-secret-rotate = Rotate key
panel-secret-delete-question = Delete secret { $name }?
panel-secret-rotate-question = Encrypt every stored secret again under a new master key?

panel-chat = Chat
panel-alias = Alias
panel-alias-name = alias name, e.g. llama3:instruct
panel-alias-create = Create
panel-alias-for = Alias for { $repo } { $file }:
panel-model-delete-question = Delete { $file } from { $repo } ({ $size }) from the local cache?
panel-model-deleted = Deleted { $file } from { $repo }; { $size } freed.
