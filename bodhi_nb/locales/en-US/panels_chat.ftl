# The chat panel (bodhi_nb/ui/chat_panel.py) and `panel chat`.
# { $prog } is `%bodhi` in a notebook and `bodhi` in a terminal.

arg-panel-chat = chat with an alias: threads from history, the answer streaming as Markdown, Stop
arg-panel-chat-alias = the alias to chat with (a model alias, owner/repo:QUANT, or an API alias)

chat-panel-alias = Alias
chat-panel-api-alias = { $alias } (API)
chat-panel-thread = Thread
chat-panel-new-thread = new thread
chat-panel-thread-option = { $thread } · { $alias } · { $exchanges ->
    [one] 1 exchange
   *[other] { $exchanges } exchanges
    }
chat-panel-thread-new = new thread { $thread }
chat-panel-thread-shown = thread { $thread }
chat-panel-temperature = temperature
chat-panel-max-tokens = max tokens
chat-panel-seed = seed
chat-panel-default = default
chat-panel-prompt = Ask something… (Enter sends)
chat-panel-send = Send
chat-panel-stop = Stop
chat-panel-you = You
chat-panel-stopped = stopped
chat-panel-stopping = stopping…

command_error-no_alias_chosen = No alias to chat with: pick one in the Alias list, or make one (`{ $prog } pull OWNER/REPO:QUANT` for a local model, `{ $prog } api add` for an API).
command_error-no_alias_for_file = No alias serves { $filename } from { $repo } (a vision projector or a later part of a split model has none): create one first, with Alias on its row or `{ $prog } alias create NAME --repo { $repo } --file { $filename }`.
