"""The models panel: local GGUF files with their metadata and aliases, from DataService.

Each row has Chat (the chat panel on an alias of that file opens below the table: a user
alias if one points at it, else its model alias ``owner/repo:QUANT``), Alias (a name box,
then DataService ``create_alias``) and Delete (the confirm strip, then HubService
``remove_local_file``; the table refreshes).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import ipywidgets as widgets

from bodhi_nb.commands.results import human_bytes
from bodhi_nb.ui.kit import Column, Panel, RowAction, Table

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.commands.results import Result
    from bodhi_nb.services.data import LocalModel
    from bodhi_nb.ui.chat_panel import ChatPanel

__all__ = ["ModelsPanel"]


def _quant(m: LocalModel) -> str | None:
    return m.metadata.quantization if m.metadata else None


def _arch(m: LocalModel) -> str | None:
    return m.metadata.architecture if m.metadata else None


def _context(m: LocalModel) -> int | None:
    return m.metadata.context_length if m.metadata else None


class ModelsPanel(Panel):
    """``bodhi_nb.ui.models()``."""

    def __init__(self, app: AppService, *, prog: str = "%bodhi") -> None:
        super().__init__(app, prog=prog)
        #: the HF cache the rows were read from ("" until a refresh has succeeded)
        self._root = ""
        self.add_class("bodhi-models-panel")
        unreadable = self.t("models-unreadable")
        self.table: Table[LocalModel] = Table(self.ctx, (
            Column("repo", lambda m: m.file.repo),
            Column("file", lambda m: m.file.filename),
            Column("quant", _quant),
            Column("size", lambda m: m.file.size, lambda m: human_bytes(m.file.size)),
            Column("arch", _arch, lambda m: _arch(m) or (unreadable if m.metadata is None
                                                         else "")),
            Column("context", _context),
            Column("aliases", lambda m: ", ".join(m.aliases)),
        ), actions=(
            RowAction("chat", self.t("panel-chat"), self.open_chat),
            RowAction("alias", self.t("panel-alias"), self.start_alias),
            RowAction("delete", self.t("panel-delete"), self.ask_delete),
        ))
        #: the model the alias strip names, while it is open.
        self.aliasing: LocalModel | None = None
        self.alias_target = widgets.Label()
        self.alias_name = widgets.Text(placeholder=self.t("panel-alias-name"))
        self.alias_create = widgets.Button(description=self.t("panel-alias-create"),
                                           button_style="primary")
        self.alias_cancel = widgets.Button(description=self.t("panel-cancel"))
        self.alias_create.on_click(lambda _b: self.create_alias())
        self.alias_cancel.on_click(lambda _b: self._close_alias())
        self.alias_name.add_class("bodhi-alias-name")
        self.alias_create.add_class("bodhi-alias-create")
        self.alias_cancel.add_class("bodhi-alias-cancel")
        self.alias_strip = widgets.HBox(
            [self.alias_target, self.alias_name, self.alias_create, self.alias_cancel],
            layout=widgets.Layout(display="none"))
        self.refresh_button = widgets.Button(description=self.t("panel-refresh"))
        self.refresh_button.on_click(lambda _b: self.attempt(self.refresh))
        self.refresh_button.add_class("bodhi-refresh")
        self.alias_strip.add_class("bodhi-alias-strip")
        self.title = widgets.HTML()
        #: the chat panel a row's Chat opened (shown in ``chat_area``, below the table)
        self.chat: ChatPanel | None = None
        self.chat_area = widgets.VBox()
        self.children = (
            widgets.HBox([self.title, self.refresh_button]),
            self.table.widget, self.alias_strip, self.confirm.widget,
            self.status, self.error.widget, self.chat_area,
        )
        self.attempt(self.refresh)

    def listing(self) -> Result:
        """``ls``'s table of the models this panel holds (not listed again: the text form is
        asked for when the panel shows, right after it read them)."""
        from bodhi_nb.commands.models import models_result
        from bodhi_nb.commands.panel import listing

        if not self._root:  # never read: the command says what fails
            return listing("models", self.app, self.ctx)
        return models_result(self.table.rows, self._root, self.ctx)

    def refresh(self) -> None:
        data = self.app.data_service()
        self._root = str(data.hf_cache.root)
        self.title.value = "<b>{}</b>".format(html.escape(
            self.t("models-title", root=str(data.hf_cache.root))))
        self.table.set_rows(data.local_models())

    # -- Chat -------------------------------------------------------------------------------

    def chat_alias(self, model: LocalModel) -> str:
        """The alias Chat opens for ``model``: a user alias of the file, else its model
        alias; ``NoAliasForFileError`` when none serves it."""
        users = {a.alias for a in self.app.data_service().list_aliases().user}
        mine = [name for name in model.aliases if name in users]
        if mine or model.aliases:
            return (mine or list(model.aliases))[0]
        from bodhi_nb.errors import NoAliasForFileError

        raise NoAliasForFileError(repo=model.file.repo, filename=model.file.filename)

    def open_chat(self, model: LocalModel) -> None:
        """Show the chat panel on ``model`` below the table (in place of one open)."""
        def open_panel() -> None:
            from bodhi_nb.ui.chat_panel import ChatPanel

            alias = self.chat_alias(model)
            if self.chat is not None:
                self.chat.stop()
            self.chat = ChatPanel(self.app, alias, prog=self.ctx.prog)
            self.chat_area.children = (self.chat,)

        self.attempt(open_panel)

    # -- Alias ------------------------------------------------------------------------------

    def start_alias(self, model: LocalModel) -> None:
        self.aliasing = model
        self.alias_target.value = self.t("panel-alias-for", repo=model.file.repo,
                                         file=model.file.filename)
        self.alias_name.value = ""
        self.alias_strip.layout.display = "flex"

    def _close_alias(self) -> None:
        self.aliasing = None
        self.alias_strip.layout.display = "none"

    def create_alias(self) -> None:
        model = self.aliasing
        if model is None:
            return

        def create() -> str:
            from bodhi_nb.objs import UserAlias

            saved = self.app.data_service().create_alias(UserAlias(
                alias=str(self.alias_name.value).strip(), repo=model.file.repo,
                filename=model.file.filename, snapshot=model.file.snapshot))
            self._close_alias()
            self.refresh()
            return self.t("alias-created", alias=saved.alias, repo=saved.repo,
                          filename=saved.filename, snapshot=saved.snapshot)

        self.attempt(create)

    # -- Delete -----------------------------------------------------------------------------

    def ask_delete(self, model: LocalModel) -> None:
        def delete() -> str:
            freed = self.app.hub_service().remove_local_file(model.file)
            self.refresh()
            return self.t("panel-model-deleted", repo=model.file.repo,
                          file=model.file.filename, size=human_bytes(freed))

        self.confirm.ask(self.t("panel-model-delete-question", repo=model.file.repo,
                                file=model.file.filename, size=human_bytes(model.file.size)),
                         lambda: self.attempt_then_refresh(delete))
