"""The secrets panel: names and dates of the stored secrets, Set, Delete, Rotate key.

A value typed into the ``Password`` box is read in the kernel, stored through
SecretService, and the box is emptied at once, whatever happens next: the value is never
kept in a widget, sent back to the front end, shown, or put in the panel's text form.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import ipywidgets as widgets

from bodhi_nb.commands.grammar import said
from bodhi_nb.objs import SecretInfo
from bodhi_nb.ui.kit import Column, Panel, RowAction, SecretBox, Table

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.commands.results import Result

__all__ = ["SecretsPanel"]


class SecretsPanel(Panel):
    """``bodhi_nb.ui.secrets()``."""

    def __init__(self, app: AppService, *, prog: str = "%bodhi") -> None:
        super().__init__(app, prog=prog)
        self.add_class("bodhi-secrets-panel")
        self.table: Table[SecretInfo] = Table(self.ctx, (
            Column("name", lambda s: s.name),
            Column("created", lambda s: s.created_at),
            Column("updated", lambda s: s.updated_at),
        ), actions=(RowAction("delete", self.t("panel-delete"), self.ask_delete),))
        self.name = widgets.Text(placeholder=self.t("panel-secret-name"),
                                 description=self.t("panel-secret-name-label"))
        # Not continuous: the front end sends the value once (on Enter or leaving the box),
        # not a prefix of it on every key.
        self.password = SecretBox(placeholder=self.t("panel-secret-value"),
                                  description=self.t("panel-secret-value-label"),
                                  continuous_update=False)
        self.set_button = widgets.Button(description=self.t("panel-secret-set"),
                                         button_style="primary")
        self.set_button.on_click(lambda _b: self.set_secret())
        self.rotate_button = widgets.Button(description=self.t("panel-secret-rotate"))
        self.rotate_button.on_click(lambda _b: self.ask_rotate())
        # CSS classes name the parts for browser tests and themes.
        self.name.add_class("bodhi-secret-name")
        self.password.add_class("bodhi-secret-value")
        self.set_button.add_class("bodhi-secret-set")
        self.rotate_button.add_class("bodhi-secret-rotate")
        self.children = (
            widgets.HTML(f"<b>{html.escape(self.t('secret-ls-title'))}</b>"),
            self.table.widget,
            widgets.HBox([self.name, self.password, self.set_button]),
            self.rotate_button,
            self.confirm.widget, self.status, self.error.widget,
        )
        self.attempt(self.refresh)

    def listing(self) -> Result:
        from bodhi_nb.commands.panel import listing

        return listing("secrets", self.app, self.ctx)

    def refresh(self) -> None:
        self.table.set_rows(self.app.secret_service().list_secrets())

    def set_secret(self) -> None:
        """Store the Password box's value under the name box's name, then empty the box."""
        value = str(self.password.value or "")
        # Emptied before anything can fail: the value must not stay in the widget's state.
        self.password.value = ""

        def store() -> str:
            from bodhi_nb.errors import EmptyValueError
            from bodhi_nb.services.secret import check_name

            name = check_name(str(self.name.value).strip())
            if not value.strip():
                raise EmptyValueError(name=name)
            self.app.secret_service().store_secret(name, value.strip())
            notice = self.app.keyring_service().take_notice()
            self.refresh()
            lines = [self.t("secret-stored", name=name)]
            if notice:
                lines.append(said(self.ctx, notice))
            return " ".join(lines)

        self.attempt(store)

    def ask_delete(self, secret: SecretInfo) -> None:
        def delete() -> str:
            from bodhi_nb.errors import SecretNotFoundError

            if not self.app.secret_service().delete_secret(secret.name):
                raise SecretNotFoundError(name=secret.name)
            self.refresh()
            return self.t("secret-removed", name=secret.name)

        self.confirm.ask(self.t("panel-secret-delete-question", name=secret.name),
                         lambda: self.attempt_then_refresh(delete))

    def ask_rotate(self) -> None:
        def rotate() -> str:
            rotation = self.app.secret_service().rotate_key()
            self.refresh()
            return self.t("secret-rotated", secrets=rotation.secrets, rows=rotation.rows,
                          source=said(self.ctx, rotation.source))

        self.confirm.ask(self.t("panel-secret-rotate-question"),
                         lambda: self.attempt_then_refresh(rotate))
