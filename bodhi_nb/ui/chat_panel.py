"""The chat panel: pick an alias and a thread, send prompts, watch the answer stream.

Over ChatService only: ``chat(request, on_delta, on_event, cancel)`` runs in a worker thread
(the kernel stays free for other cells), the answer streams into the transcript through the
kit's :class:`~bodhi_nb.ui.kit.Throttle` (about ten updates a second, the last one never
lost), and Stop cancels the request's :class:`~bodhi_nb.objs.CancelToken`: the service ends
the stream, keeps the partial answer and logs it as stopped; the transcript keeps it too,
with a small "stopped" mark. ``threads`` fills the thread picker and ``history`` loads a
thread's transcript. Worker threads only set traits.

The transcript is a VBox of one ``HTML`` widget per message: a finished message is never
rendered again, and only the answer being streamed is re-rendered (Markdown, kernel side,
with mistune; raw HTML in an answer or a prompt is escaped, so it shows as text).

Enter in the prompt box: the box syncs its text on Enter or on leaving it
(``continuous_update=False``), and the front end also sends a ``submit`` message on Enter,
just before the text. So a submit arms the box and the text that follows is sent; leaving
the box only syncs its text. When Enter comes with no new text (the box was synced when the
user left it), nothing follows the submit: after :data:`SUBMIT_GRACE` seconds the text the
kernel has is sent.
"""

from __future__ import annotations

import html
import threading
import time
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from bodhi_nb.ui.kit import Panel, Throttle

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.commands.results import Result
    from bodhi_nb.objs import CancelToken, ThreadInfo
    from bodhi_nb.services.chat import ChatEvent, ChatReply, ChatRequest

__all__ = ["NEW_THREAD", "SUBMIT_GRACE", "ChatPanel", "render_markdown"]

#: the thread picker's value for "new thread"
NEW_THREAD = ""
#: seconds Enter waits for the box's text before sending the text the kernel already has
SUBMIT_GRACE = 0.25
#: how many threads the picker lists, and how many exchanges of a thread load
THREADS_LISTED = 50
EXCHANGES_LOADED = 200

_STYLE = """<style>
.bodhi-chat-transcript .bodhi-chat-role {font-weight: 600; font-size: 0.85em; opacity: 0.7}
.bodhi-chat-transcript .bodhi-chat-plain {white-space: pre-wrap}
.bodhi-chat-transcript .bodhi-chat-user .bodhi-chat-plain {margin: 0.2em 0 0.6em 0}
.bodhi-chat-transcript .bodhi-chat-stopped {font-size: 0.8em; font-style: italic;
  color: #b06000}
.bodhi-chat-transcript pre {white-space: pre-wrap}
</style>"""

_markdown_lock = threading.Lock()
_markdown: Any = None


def render_markdown(text: str) -> str:
    """``text`` as HTML, from Markdown; raw HTML in it is escaped (shows as text), and
    ``javascript:`` links are dropped."""
    global _markdown
    with _markdown_lock:
        if _markdown is None:
            import mistune

            _markdown = mistune.create_markdown(
                escape=True, plugins=["strikethrough", "table", "url"])
        return str(_markdown(text))


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


class ChatPanel(Panel):
    """``bodhi_nb.ui.chat(alias)``: alias and thread pickers, parameters, the transcript,
    a prompt box with Send (and Enter) and Stop."""

    def __init__(self, app: AppService, alias: str | None = None, *,
                 prog: str = "%bodhi") -> None:
        super().__init__(app, prog=prog)
        self.add_class("bodhi-chat-panel")
        self._lock = threading.RLock()
        self._armed = False
        self._quiet = False  # set while the panel itself changes a picker
        self._token: CancelToken | None = None
        #: True from Send until the answer is in (or failed)
        self.generating = False
        #: the worker thread of the last Send (tests join it)
        self.worker: threading.Thread | None = None
        #: the timer of an Enter that came without new text
        self.submit_timer: threading.Timer | None = None
        #: the reply of the last finished Send
        self.last_reply: ChatReply | None = None
        #: the thread the next prompt goes to
        self.thread_name = _new_thread_name()

        self.alias = widgets.Dropdown(description=self.t("chat-panel-alias"),
                                      layout=widgets.Layout(width="auto"))
        self.thread = widgets.Dropdown(description=self.t("chat-panel-thread"),
                                       layout=widgets.Layout(width="auto"))
        self.thread.observe(self._on_thread, names="value")
        self.thread_label = widgets.Label()
        # Text boxes, not FloatText/IntText: blank means "the alias's own value", and what
        # is typed is checked as `-o KEY=VALUE` is. Not continuous: a box syncs its value
        # once, when left (a click on Send leaves it first), so no keystroke's update can
        # still be on its way when Send's click arrives.
        self.temperature, self.max_tokens, self.seed = (
            widgets.Text(description=self.t(message), placeholder=self.t("chat-panel-default"),
                         continuous_update=False, layout=widgets.Layout(width="14em"),
                         style={"description_width": "initial"})
            for message in ("chat-panel-temperature", "chat-panel-max-tokens",
                            "chat-panel-seed"))
        for box, name in ((self.temperature, "temperature"), (self.max_tokens, "max-tokens"),
                          (self.seed, "seed")):
            box.add_class(f"bodhi-chat-{name}")
        self.transcript = widgets.VBox(layout=widgets.Layout(padding="4px 0"))
        self.transcript.add_class("bodhi-chat-transcript")
        #: the HTML widget the next answer streams into (the last of the transcript)
        self.streaming = self._pending()
        self.prompt = widgets.Text(placeholder=self.t("chat-panel-prompt"),
                                   continuous_update=False,
                                   layout=widgets.Layout(flex="1 1 auto", width="auto"))
        self.prompt.add_class("bodhi-chat-prompt")
        self.prompt.on_msg(self._on_prompt_msg)
        self.prompt.observe(self._on_prompt_value, names="value")
        self.send_button = widgets.Button(description=self.t("chat-panel-send"),
                                          button_style="primary")
        self.send_button.add_class("bodhi-chat-send")
        self.send_button.on_click(lambda _b: self.send())
        self.stop_button = widgets.Button(description=self.t("chat-panel-stop"),
                                          button_style="warning", disabled=True)
        self.stop_button.add_class("bodhi-chat-stop")
        self.stop_button.on_click(lambda _b: self.stop())
        self.children = (
            widgets.HTML(_STYLE),
            widgets.HBox([self.alias, self.thread, self.thread_label]),
            widgets.HBox([self.temperature, self.max_tokens, self.seed]),
            self.transcript,
            widgets.HBox([self.prompt, self.send_button, self.stop_button]),
            self.status, self.error.widget,
        )
        self._show_thread_name(new=True)
        self.attempt(lambda: self._fill_pickers(alias))

    # -- the text form ------------------------------------------------------------------------

    def listing(self) -> Result:
        """``%bodhi history`` (of this panel's thread once it has exchanges)."""
        from bodhi_nb.commands.chat import HistoryCommand, HistoryRequest
        from bodhi_nb.commands.panel import listing

        if self.app.chat_service().history(1, self.thread_name):
            return HistoryCommand().run(self.app, HistoryRequest(thread=self.thread_name),
                                        self.ctx)
        return listing("chat", self.app, self.ctx)

    # -- pickers ------------------------------------------------------------------------------

    def _fill_pickers(self, wanted: str | None) -> None:
        listing = self.app.data_service().list_aliases()
        options: list[tuple[str, str]] = []
        for name in dict.fromkeys([a.alias for a in listing.user]
                                  + [a.alias for a in listing.model]):
            options.append((name, name))
        options += [(self.t("chat-panel-api-alias", alias=a.id), a.id) for a in listing.api]
        value: str | None = options[0][1] if options else None
        if wanted is not None:
            if wanted not in {v for _, v in options}:
                if self.app.data_service().find_alias(wanted) is None:
                    from bodhi_nb.errors import AliasNotFoundError

                    self.alias.options, self.alias.value = options, None
                    self._fill_threads()
                    raise AliasNotFoundError(alias=wanted)
                options.insert(0, (wanted, wanted))  # e.g. an API alias's prefix/model
            value = wanted
        self.alias.options = options
        self.alias.value = value
        self._fill_threads()

    def _fill_threads(self) -> None:
        infos = self.app.chat_service().threads(limit=THREADS_LISTED, named_only=True)
        options = [(self.t("chat-panel-new-thread"), NEW_THREAD)]
        options += [(self._thread_text(i), i.thread) for i in infos]
        current = self.thread_name if self.thread_name in {i.thread for i in infos} \
            else NEW_THREAD
        self._quiet = True
        try:
            self.thread.options = options
            self.thread.value = current
        finally:
            self._quiet = False

    def _thread_text(self, info: ThreadInfo) -> str:
        return self.t("chat-panel-thread-option", thread=info.thread,
                      alias=info.last_alias or "-", exchanges=info.exchanges)

    def _show_thread_name(self, new: bool) -> None:
        self.thread_label.value = self.t("chat-panel-thread-new" if new
                                         else "chat-panel-thread-shown", thread=self.thread_name)

    def _on_thread(self, change: dict[str, Any]) -> None:
        if self._quiet or self.generating:
            return
        self.attempt(lambda: self.choose_thread(str(change["new"] or NEW_THREAD)))

    def choose_thread(self, name: str) -> None:
        """Go to thread ``name`` (its transcript loads from history), or to a new thread
        (:data:`NEW_THREAD`)."""
        if name == NEW_THREAD:
            self.thread_name = _new_thread_name()
            self._set_transcript([])
            self._show_thread_name(new=True)
            return
        from bodhi_nb.services.chat import STOPPED

        entries = list(reversed(self.app.chat_service().history(EXCHANGES_LOADED,
                                                                thread=name)))
        messages: list[widgets.HTML] = []
        for entry in entries:
            messages.append(self._message(self._user_html(entry.prompt), "bodhi-chat-user"))
            messages.append(self._message(
                self._answer_html(entry.alias or "", entry.answer, markdown=True,
                                  stopped=entry.finish_reason == STOPPED),
                "bodhi-chat-assistant"))
        self.thread_name = name
        self._set_transcript(messages)
        self._show_thread_name(new=False)
        last = entries[-1].alias if entries else None
        if last is not None and last in {v for _, v in self.alias.options}:
            self.alias.value = last

    # -- the transcript -----------------------------------------------------------------------

    def _message(self, value: str, role: str) -> widgets.HTML:
        message = widgets.HTML(value)
        message.add_class(role)
        return message

    def _pending(self) -> widgets.HTML:
        """An empty, hidden message put at the end of the transcript: the next answer."""
        pending = widgets.HTML(layout=widgets.Layout(display="none"))
        self.transcript.children = (*self.transcript.children, pending)
        return pending

    def _set_transcript(self, messages: list[widgets.HTML]) -> None:
        old = self.transcript.children
        self.streaming = widgets.HTML(layout=widgets.Layout(display="none"))
        self.transcript.children = (*messages, self.streaming)
        for message in old:  # ipywidgets keeps every widget until it is closed
            message.layout.close()
            message.style.close()
            message.close()

    def transcript_html(self) -> str:
        """The HTML of every message shown, in order."""
        return "".join(str(m.value) for m in self.transcript.children)

    def _user_html(self, prompt: str) -> str:
        return (f'<div class="bodhi-chat-role">{_esc(self.t("chat-panel-you"))}</div>'
                f'<div class="bodhi-chat-plain">{_esc(prompt)}</div>')

    def _answer_html(self, alias: str, text: str, *, markdown: bool,
                     stopped: bool = False) -> str:
        body = (render_markdown(text) if markdown
                else f'<div class="bodhi-chat-plain">{_esc(text)}</div>')
        mark = (f'<div class="bodhi-chat-stopped">{_esc(self.t("chat-panel-stopped"))}</div>'
                if stopped else "")
        return f'<div class="bodhi-chat-role">{_esc(alias)}</div>{body}{mark}'

    # -- Enter ---------------------------------------------------------------------------------

    def _on_prompt_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("event") == "submit":
            with self._lock:
                self._armed = True
            timer = threading.Timer(SUBMIT_GRACE, self._submit_unchanged)
            timer.daemon = True
            self.submit_timer = timer
            timer.start()

    def _disarm(self) -> bool:
        with self._lock:
            armed, self._armed = self._armed, False
        return armed

    def _on_prompt_value(self, _change: dict[str, Any]) -> None:
        if self._disarm():  # the text of an Enter: send it
            self.send()

    def _submit_unchanged(self) -> None:
        if self._disarm():  # Enter, and no new text followed: the text the kernel has
            self.send()

    # -- Send and Stop --------------------------------------------------------------------------

    def params(self) -> dict[str, Any]:
        """The parameter boxes as request params (blank: the alias's own), checked as
        ``%bodhi chat -o KEY=VALUE`` checks them (``chat_service_error-bad_param``)."""
        from bodhi_nb.commands.chat import parse_params

        boxes = (("temperature", self.temperature), ("max_tokens", self.max_tokens),
                 ("seed", self.seed))
        return parse_params([f"{name}={str(box.value).strip()}" for name, box in boxes
                             if str(box.value).strip()])

    def send(self) -> bool:
        """Send the prompt box's text to the chosen alias on this panel's thread; the answer
        streams in a worker thread. False when nothing was sent (an empty box, an answer
        still coming, a problem shown in the error line)."""
        from bodhi_nb.services.chat import ChatRequest

        with self._lock:
            prompt = str(self.prompt.value)
            if self.generating or not prompt.strip():
                return False
            self.error.clear()
            try:
                alias = self.alias.value
                if not alias:
                    from bodhi_nb.errors import NoAliasChosenError

                    raise NoAliasChosenError()
                request = ChatRequest(str(alias), prompt, params=self.params(),
                                      thread=self.thread_name,
                                      started_at=time.perf_counter())
            except Exception as exc:
                self.error.show(exc)
                return False
            self._start(request)
            return True

    def _start(self, request: ChatRequest) -> None:
        from bodhi_nb.objs import CancelToken

        token = CancelToken()
        self._token = token
        self.generating = True
        self.prompt.value = ""
        self.status.value = ""
        self._busy(True)
        answer = self.streaming
        answer.add_class("bodhi-chat-assistant")
        answer.add_class("bodhi-chat-streaming")
        answer.value = self._answer_html(request.alias, "", markdown=True)
        answer.layout.display = None
        user = self._message(self._user_html(request.prompt), "bodhi-chat-user")
        self.transcript.children = (*self.transcript.children[:-1], user, answer)
        self.worker = threading.Thread(target=self._generate, args=(request, token, answer),
                                       name="bodhi-chat-panel", daemon=True)
        self.worker.start()

    def _busy(self, busy: bool) -> None:
        self.send_button.disabled = busy
        self.stop_button.disabled = not busy
        for picker in (self.alias, self.thread, self.temperature, self.max_tokens, self.seed):
            picker.disabled = busy

    def stop(self) -> None:
        """End the answer being streamed: the text so far stays, logged as stopped."""
        token = self._token
        if token is None or not self.generating:
            return
        token.cancel()
        self.stop_button.disabled = True
        self.status.value = self.t("chat-panel-stopping")

    def _generate(self, request: ChatRequest, token: CancelToken,
                  answer: widgets.HTML) -> None:
        """The worker: ask ChatService, stream into ``answer``, then settle the panel."""
        from bodhi_nb.services.chat import STOPPED

        parts: list[str] = []
        markdown = [True]

        def show() -> None:
            answer.value = self._answer_html(request.alias, "".join(parts),
                                             markdown=markdown[0])

        throttle = Throttle(show)

        def on_delta(text: str) -> None:
            parts.append(text)
            throttle()

        def on_event(event: ChatEvent) -> None:
            self._on_event(event, markdown)

        reply: ChatReply | None = None
        failure: BaseException | None = None
        try:
            reply = self.app.chat_service().chat(request, on_delta, on_event, cancel=token)
        except Exception as exc:
            failure = exc
        try:
            text = reply.text if reply is not None else "".join(parts)
            stopped = reply is not None and reply.finish_reason == STOPPED
            answer.value = self._answer_html(request.alias, text, markdown=markdown[0],
                                             stopped=stopped)
            answer.remove_class("bodhi-chat-streaming")
            self.streaming = self._pending()
            self.last_reply = reply
            if failure is not None:
                self.status.value = ""
                self.error.show(failure)
            elif reply is not None:
                self.status.value = self._summary(reply, stopped)
            self._fill_threads()
            self._show_thread_name(new=False)
        except Exception as exc:  # the history could not be read back, say
            self.error.show(exc)
        finally:
            self.generating = False
            self._busy(False)

    def _on_event(self, event: ChatEvent, markdown: list[bool]) -> None:
        data = event.data
        if event.kind == "format":
            markdown[0] = bool(data.get("markdown", True))
        elif event.kind == "starting":
            self.status.value = self.t("chat-server-starting", alias=data.get("alias", ""),
                                       seconds=f"{float(data.get('seconds', 0)):.0f}")
        elif event.kind == "started":
            self.status.value = self.t("chat-server-started", alias=data.get("alias", ""),
                                       seconds=f"{float(data.get('seconds', 0)):.1f}")
        elif event.kind == "template_fallback":
            self.status.value = self.t("chat-template-fallback", **data)

    def _summary(self, reply: ChatReply, stopped: bool) -> str:
        from bodhi_nb.commands.chat import ChatResponse, empty_explanation

        def message(code: str, args: dict[str, Any]) -> str:
            return self.t(code, **args)

        if not reply.text.strip() and not stopped:
            return empty_explanation(reply, message, self.ctx.prog)
        return ChatResponse(reply, message=message).summary()


def _new_thread_name() -> str:
    """A name for a new thread, as ``%bodhi chat --new`` makes one."""
    from bodhi_nb.objs import new_ulid

    return f"t-{new_ulid()[-8:].lower()}"
