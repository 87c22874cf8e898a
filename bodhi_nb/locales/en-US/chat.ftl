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
