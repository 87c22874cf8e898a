# Text of what the services grew for the widget panels (issue 10): cancelled pulls and chats.
# { $prog } is `%bodhi` in a notebook and `bodhi` in a terminal.

hub_service_error-cancelled = The download of { $filename } from { $repo } was cancelled. Its partial file is kept: pull it again (or `{ $prog } downloads retry`) to resume.
# `history`: after the answer of an exchange the user stopped (Stop, a cancelled generation).
history-stopped = (stopped)
