# What `chat` says besides the answer. { $prog } is `%bodhi` in a notebook and `bodhi` in a
# terminal.

chat-server-starting = starting the model server for { $alias }… { $seconds } s
chat-server-started = model server for { $alias } ready in { $seconds } s
chat-template-fallback = Note: { $file } has no chat template (a base model, which continues text), so { $alias } frames prompts as "### Instruction: …" (llama.cpp's { $format } format) and shows answers as plain text. To choose another format, make an alias: `{ $prog } alias create NAME --repo { $repo } --file { $file } --ctx chat_format=FORMAT`.
chat-empty-length = (empty answer: finish reason length, { $tokens } tokens — the token limit ran out before any text. Raise it, e.g. `-o max_tokens=256`.)
chat-empty-stop = (empty answer: finish reason { $finish }, { $tokens } tokens — the model ended its turn at once. If { $alias } has stop sequences, check the answer does not begin with one (`{ $prog } alias show { $alias }`), or try `-o temperature=0.7`.)
chat-empty-base-model = (empty answer: finish reason { $finish }, { $tokens } tokens — { $alias } runs a base model, which ended its answer at once under the alias's chat format. Check its stop sequences (`{ $prog } alias show { $alias }`), or use llama.cpp's completion-friendly format: `--ctx chat_format=alpaca`.)

# The summary line after an answer.
chat-summary-tokens = { $tokens } tokens
chat-summary-first-token = first token { $ms } ms
chat-summary-server-start = (model server start { $ms } ms)
chat-summary-total = total { $ms } ms
chat-summary-thread = thread { $thread }

# ps: the llama.cpp server of this kernel.
ps-title = llama.cpp servers of this kernel
ps-none = (no local model server running; `{ $prog } chat ALIAS ...` starts one)
ps-stopped = Stopped the llama.cpp server of { $names }.
ps-stopped-none = No local model server was running.
ps-state-starting = starting
ps-state-busy = busy
ps-state-idle = idle

# chat and history: what is refused, and the history table (issue 8 item 26).
chat-prompt-twice = give the prompt in the cell body or on the line, not both
chat-prompt-empty = the prompt is empty
chat-reset-needs-thread = --reset needs --thread NAME
chat-out-needs-notebook = --out needs a notebook
history-n-too-small = -n must be at least 1
history-title = Chat history
history-empty = (no chats logged yet)

# Table headings and argument help of chat, history and ps.
col-when = when
col-thread = thread
col-prompt = prompt
col-answer = answer
col-tokens = tokens
col-total = total
col-pid = pid
col-port = port
col-state = state
col-uptime = uptime
col-idle = idle
col-model_file = model file
arg-chat-alias = a model alias, owner/repo:QUANT, or prefix/model
arg-chat-prompt = the prompt (or the cell body)
arg-chat-system = a system prompt
arg-chat-option = request parameter, e.g. -o temperature=0 -o seed=7
arg-chat-format = how the answer renders (auto: Markdown, plain text for a base model without a chat template)
arg-chat-out = bind the answer text to VAR
arg-chat-thread = continue the conversation NAME
arg-chat-new = start a new named thread
arg-chat-reset = with --thread: start NAME afresh (earlier exchanges stay in history but are not sent), so a notebook re-run gives the same answers
arg-chat-no_stream = wait for the whole answer
arg-chat-no_log = keep it out of history
arg-chat-no_interpolate = send {"{"}braces{"}"} as written
arg-history-n = how many exchanges
arg-history-thread = only this thread
arg-history-q = only exchanges containing TEXT
arg-ps-stop = stop the server now (the next chat starts it again)
