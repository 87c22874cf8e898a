"""The pull panel: a repository box, its GGUF files (a split model as one entry), Pull.

Enter in the box (or List files) asks HubService for the repository's files and shows the
GGUF models with quantisation, size, and whether each fits in this machine's available
memory (:func:`bodhi_nb.services.system.available_memory`). Pull starts a background pull
per file through DownloadService with a :class:`~bodhi_nb.ui.download_row.DownloadRow`
each; several run at once. Cancel keeps the partial file: the next Pull resumes it.

A row follows its request through ``DownloadService.watch`` rather than being the pull's
``progress``: one way covers a pull this click started, one already running in this kernel
(a second click, a ``%bodhi pull --background``), and one over before the row was made, and
the end of the run tells the row its outcome whatever it is (cancelled, error, completed).
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from bodhi_nb.commands.results import human_bytes
from bodhi_nb.services.system import available_memory
from bodhi_nb.ui.download_row import DownloadRow
from bodhi_nb.ui.kit import Column, Panel, RowAction, Table

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.commands.results import Result

__all__ = ["PullPanel", "RepoEntry", "repo_entries"]


@dataclass(frozen=True)
class RepoEntry:
    """One model a repository offers: a GGUF file, or every part of a split one."""

    files: tuple[str, ...]
    quant: str
    size: int | None
    fits: bool | None = None

    @property
    def name(self) -> str:
        return self.files[0]


def repo_entries(listing: list[tuple[str, int | None]],
                 memory: int | None = None) -> list[RepoEntry]:
    """The GGUF models in ``listing`` (``HubService.list_repo_files``): a split model
    (``...-00001-of-00003.gguf``) is one entry of all its parts, its size their sum (None
    when a part's size is unknown); ``fits`` compares that with ``memory`` bytes."""
    from bodhi_nb.gguf import is_auxiliary, quant_from_filename, shard_files, shard_index

    sizes = dict(listing)
    names = [n for n, _ in listing if n.lower().endswith(".gguf") and not is_auxiliary(n)]
    entries: list[RepoEntry] = []
    for name in sorted(names):
        if shard_index(name) > 1:
            continue  # a later part: counted with its first one
        parts = tuple(shard_files(names, name))
        part_sizes = [sizes.get(p) for p in parts]
        size = (sum(s for s in part_sizes if s is not None)
                if all(s is not None for s in part_sizes) else None)
        fits = None if memory is None or size is None else size <= memory
        entries.append(RepoEntry(parts, quant_from_filename(name), size, fits))
    return entries


class PullPanel(Panel):
    """``bodhi_nb.ui.pull()``: root ``bodhi-pull-panel``; the repository box
    ``bodhi-pull-repo``, List ``bodhi-pull-list``, the files ``bodhi-pull-files`` (a Pull
    button per entry, ``bodhi-action-pull``), the download rows ``bodhi-download-rows``."""

    def __init__(self, app: AppService, *, prog: str = "%bodhi",
                 memory: Callable[[], int | None] = available_memory,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(app, prog=prog)
        self._memory = memory
        self._clock = clock
        self.revision = "main"
        #: the repository listed last, and its entries
        self.listed: str | None = None
        self.table: Table[RepoEntry] = Table(self.ctx, (
            Column("file", lambda e: e.name),
            Column("quant", lambda e: e.quant),
            Column("size", lambda e: e.size, lambda e: human_bytes(e.size)),
            Column("parts", lambda e: len(e.files)),
            Column("fits", lambda e: e.fits, self._fits_text),
        ), actions=(RowAction("pull", self.t("pull-pull"), self.pull_entry),))
        self.repo = widgets.Text(placeholder=self.t("pull-repo-placeholder"),
                                 description=self.t("pull-repo"), continuous_update=False,
                                 layout=widgets.Layout(width="32em"))
        self.repo.observe(self._on_repo, names="value")
        self.list_button = widgets.Button(description=self.t("pull-list"),
                                          button_style="primary")
        self.list_button.on_click(lambda _b: self.list_files())
        self.memory = widgets.Label()
        #: the download rows of this panel, by request id (one each, however many clicks)
        self.rows: dict[str, DownloadRow] = {}
        self.rows_box = widgets.VBox()
        for widget, name in ((self, "bodhi-pull-panel"), (self.repo, "bodhi-pull-repo"),
                             (self.list_button, "bodhi-pull-list"),
                             (self.table.widget, "bodhi-pull-files"),
                             (self.rows_box, "bodhi-download-rows"),
                             (self.status, "bodhi-panel-status"),
                             (self.error.widget, "bodhi-panel-error")):
            widget.add_class(name)
        self.table.widget.layout.display = "none"
        self.children = (
            widgets.HTML(f"<b>{html.escape(self.t('pull-panel-title'))}</b>"),
            widgets.HBox([self.repo, self.list_button]), self.memory,
            self.table.widget, self.rows_box, self.status, self.error.widget,
        )
        self._show_memory()

    def listing(self) -> Result:
        from bodhi_nb.commands.panel import listing

        return listing("pull", self.app, self.ctx)

    # -- listing ----------------------------------------------------------------------------

    def _fits_text(self, entry: RepoEntry) -> str:
        if entry.fits is None:
            return ""
        return "✓ " + self.t("pull-fits") if entry.fits else "✗ " + self.t("pull-too-big")

    def _show_memory(self) -> int | None:
        free = self._memory()
        self.memory.value = (self.t("pull-memory", size=human_bytes(free)) if free is not None
                             else self.t("pull-memory-unknown"))
        return free

    def _on_repo(self, _change: dict[str, Any]) -> None:
        if str(self.repo.value).strip():
            self.list_files()

    def list_files(self) -> None:
        """List the GGUF models of the repository in the box (Enter, or List files)."""
        def listed() -> str:
            from bodhi_nb.objs import Repo

            repo = Repo.parse(str(self.repo.value).strip())
            files = self.app.hub_service().list_repo_files(repo, self.revision)
            entries = repo_entries(files, self._show_memory())
            self.listed = repo.id
            self.table.set_rows(entries)
            self.table.widget.layout.display = "flex"
            if not entries:
                return self.t("pull-no-files", repo=repo.id)
            return self.t("pull-listed", count=len(entries), repo=repo.id)

        self.attempt(listed)

    # -- pulling ----------------------------------------------------------------------------

    def pull_entry(self, entry: RepoEntry) -> None:
        """Pull every file of ``entry`` in the background, a row each."""
        def pull() -> str:
            from bodhi_nb.objs import CancelToken, Repo

            if self.listed is None:
                return ""
            repo = Repo.parse(self.listed)
            service = self.app.download_service()
            for filename in entry.files:
                token = CancelToken()
                request = service.pull(repo, filename, self.revision, background=True,
                                       cancel=token)
                self._row_for(request.id, filename, token)
            return self.t("pull-started", file=entry.name, parts=len(entry.files))

        self.attempt(pull)

    def _row_for(self, request_id: str, filename: str, token: Any) -> DownloadRow:
        row = self.rows.get(request_id)
        if row is not None and row.outcome is None:
            return row  # already shown, still running: one row per download
        row = DownloadRow(self.ctx, filename=filename, app_factory=lambda: self.app,
                          clock=self._clock)
        self.rows[request_id] = row
        # Newest first, so the row of the file just pulled is where the user looks.
        self.rows_box.children = (row, *[c for c in self.rows_box.children
                                         if getattr(c, "request_id", None) != request_id])
        row.follow(self.app.download_service(), request_id, token)
        return row

    def close(self) -> None:
        """Stop showing progress (downloads go on; the downloads panel shows them)."""
        for row in self.rows.values():
            row.stop_following()
        super().close()
