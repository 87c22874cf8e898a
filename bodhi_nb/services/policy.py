"""Who may do what when authentication is on: one table, checked by the services themselves.

Every gated operation names an :class:`Action`; :data:`POLICY` gives the lowest role that may
do it (BodhiApp §10's route gating, mapped onto bodhi's commands), or None for "logged in,
with any role or none" (asking for access is for people who have no role yet). The services
check at the top of the method that does the work (``ChatService.chat``, ``DownloadService.pull``,
``SecretService.store_secret``...) through a :data:`Gate`, so the magic, the CLI, the widget
panels and a Python caller going straight to a service are refused the same way, with
``auth_error-login_required`` or ``auth_error-insufficient_role``.

With authentication off (no ``BODHI_AUTH_ISSUER``) nothing is checked: one person on one
machine is that machine's admin, as before. The exception is a request made with an API token
(``AuthService.acting_as``): it is judged by the token's scope even then, so a ``user`` token
handed to a tool cannot pull models or change aliases.

Not gated: ``help``, ``version``, ``status``, ``settings`` reads, ``login``, ``logout``,
``whoami``, and internal values (a login's own session, sealed with ``store_internal``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from types import MappingProxyType

__all__ = ["PERSONAL_SETTINGS", "POLICY", "Action", "Gate", "allow_all", "short_role"]


class Action(StrEnum):
    """A gated operation (its value is what ``status`` and the docs call it)."""

    CHAT = "chat"
    MODELS = "models"  # ls, alias ls/show, the models panel, api ls
    HISTORY = "history"
    PULL = "pull"  # pull, listing a repo's files for a pull
    REMOVE = "rm"  # rm: delete a model from the cache
    ALIAS = "alias"  # alias create/copy/rm
    DOWNLOADS = "downloads"  # downloads ls/retry/archive
    API_TEST = "api test"
    USERS = "users"  # users ls
    USERS_MANAGE = "users manage"  # users set-role/remove (and the hierarchy rules)
    API_KEYS = "api"  # api add/set-key/rm
    SECRETS = "secret"  # secret set/ls/rm/rotate-key
    SETTINGS = "settings write"
    AUTH_SETUP = "auth setup"
    ACCESS_REQUEST = "access request"  # access request/status: any logged-in user
    ACCESS_REVIEW = "access review"  # access ls/approve/reject, the access dashboard
    TOKENS = "token"  # token create/ls/revoke: one's own API tokens
    LOCK = "lock"  # lock: write bodhi.lock (pull --locked is PULL)


#: the lowest role allowed to do each action (roles rank user < power_user < manager < admin);
#: None: a login is enough, with any role or none
POLICY: Mapping[Action, str | None] = MappingProxyType({
    Action.CHAT: "resource_user",
    Action.MODELS: "resource_user",
    Action.HISTORY: "resource_user",
    Action.PULL: "resource_power_user",
    Action.REMOVE: "resource_power_user",
    Action.ALIAS: "resource_power_user",
    Action.DOWNLOADS: "resource_power_user",
    Action.API_TEST: "resource_power_user",
    Action.USERS: "resource_manager",
    Action.USERS_MANAGE: "resource_manager",
    Action.API_KEYS: "resource_admin",
    Action.SECRETS: "resource_admin",
    Action.SETTINGS: "resource_admin",
    Action.AUTH_SETUP: "resource_admin",
    Action.ACCESS_REQUEST: None,
    Action.ACCESS_REVIEW: "resource_manager",
    Action.TOKENS: "resource_power_user",
    Action.LOCK: "resource_user",
})

def short_role(role: str | None) -> str:
    """A role as people type and read it: ``resource_power_user`` -> ``power_user``; no
    role -> ``none``."""
    return (role or "none").removeprefix("resource_")


#: settings that are each person's own choice, written without the admin role: which login
#: profile this process uses (switching back to one's own must always work), the language
PERSONAL_SETTINGS: frozenset[str] = frozenset({"BODHI_PROFILE", "BODHI_LOCALE"})

#: what a service calls before a gated operation: raises when the profile's user may not
Gate = Callable[[Action], None]


def allow_all(action: Action) -> None:
    """The gate of a service built on its own (tests, tools): everything is allowed."""
    del action
