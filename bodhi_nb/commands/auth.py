"""Identity commands: ``auth setup``, ``login [--device]``, ``whoami``, ``logout``, ``users``.

Every rule lives in :class:`~bodhi_nb.services.auth.AuthService` and the policy table
(:mod:`bodhi_nb.services.policy`); these commands only parse, call and word the answer. A
token never reaches a result: ``whoami`` shows who, the role and when the access token
expires.

A device login (``login --device``) returns a :class:`DeviceLogin`: the lines to show (the
verification address and the code) and ``wait()``, which polls the provider until the user
approved (or refused, or the code expired). A terminal prints the lines and waits; a notebook
shows a small widget and waits in the background, so the cell returns at once.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bodhi_nb.commands.grammar import Command, Context, Group, Verb, command, confirmed
from bodhi_nb.commands.results import Message, Result, Table, WithJson, format_timestamp
from bodhi_nb.errors import AuthIssuerNotSetError, AuthLoginRequiredError, BadArgumentsError
from bodhi_nb.services.policy import Action, short_role

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.objs import CancelToken
    from bodhi_nb.services.auth import Identity
    from bodhi_nb.services.oidc_client import DeviceGrant, ResourceUser

__all__ = ["DeviceLogin", "LoginCommand", "LogoutCommand", "UsersCommand", "WhoamiCommand",
           "identity_lines"]

#: the redirect URI registered by ``auth setup``: a native client's loopback address, whose
#: port the provider lets vary (RFC 8252 §7.3): ``login`` listens on a free one.
LOOPBACK_REDIRECT = "http://127.0.0.1/callback"


def _enabled(app: AppService) -> None:
    if not app.auth_service().enabled:
        raise AuthIssuerNotSetError()


# -- auth setup -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthSetupRequest:
    issuer: str = ""
    name: str = ""
    description: str = ""
    json: bool = False


class AuthSetup(Verb[AuthSetupRequest]):
    name = "setup"
    summary = "register this deployment with an OpenID provider (once, by an admin)"
    action = Action.AUTH_SETUP
    Request = AuthSetupRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--issuer", required=True, help="the provider's issuer URL")
        parser.add_argument("--name", required=True, help="the name users see on the "
                                                          "provider's consent page")
        parser.add_argument("--description", default="", help="a line about this deployment")

    def run(self, app: AppService, request: AuthSetupRequest, ctx: Context) -> Result:
        from bodhi_nb.objs import is_http_url
        from bodhi_nb.redact import redact_url

        if not is_http_url(request.issuer):
            raise BadArgumentsError(command=self.group,
                                    reason=ctx.t("auth-setup-bad-issuer"))
        auth = app.auth_service()
        client_id = auth.setup(request.issuer, request.name, request.description,
                               [LOOPBACK_REDIRECT])
        issuer = redact_url(auth.issuer)
        return Message(ctx.t("auth-setup-done", issuer=issuer, client=client_id),
                       (ctx.t("auth-setup-next"),),
                       data={"issuer": issuer, "client_id": client_id})


@command
class AuthCommand(Group):
    name = "auth"
    summary = "set up logins for this deployment (OpenID provider)"
    verbs = (AuthSetup(),)


# -- login, whoami, logout ------------------------------------------------------------------


def identity_lines(identity: Identity, ctx: Context, profile: str) -> Table:
    """Who is logged in, as ``whoami`` and ``login`` show it (never a token)."""
    from bodhi_nb.redact import redact_url

    items: list[tuple[str, str]] = [
        ("username", identity.username),
        ("user_id", identity.user_id),
        ("role", short_role(identity.role)),
        ("issuer", redact_url(identity.issuer)),
        ("client", identity.client_id),
        ("profile", profile),
        ("token_expires", format_timestamp(identity.expires_at)),
    ]
    return ctx.table(("item", "value"), [(ctx.t(f"auth-item-{k.replace('_', '-')}"), v)
                                         for k, v in items],
                     records=[{"item": k, "value": v} for k, v in items])


def _logged_in(app: AppService, identity: Identity, ctx: Context) -> Result:
    table = identity_lines(identity, ctx, app.auth_service().profile)
    notice = ctx.t("auth-no-role-yet") if identity.role is None else None
    title = ctx.t("auth-logged-in", user=identity.username, role=short_role(identity.role))
    return dataclasses.replace(table, title=title + (f"\n{notice}" if notice else ""))


@dataclass(frozen=True, repr=False)
class DeviceLogin(Result):
    """A started device login: the lines to show now, and :meth:`wait` for its end."""

    grant: DeviceGrant
    finish: Callable[[CancelToken | None], Identity]
    #: makes the result shown once the login completed
    outcome: Callable[[Identity], Result]
    ctx: Context

    def lines(self) -> list[str]:
        ctx = self.ctx
        out = [ctx.t("auth-device-open", uri=self.grant.verification_uri),
               ctx.t("auth-device-code", code=self.grant.user_code)]
        if self.grant.verification_uri_complete:
            out.append(ctx.t("auth-device-complete", uri=self.grant.verification_uri_complete))
        out.append(ctx.t("auth-device-waiting", minutes=max(1, self.grant.expires_in // 60)))
        return out

    def to_text(self) -> str:
        return "\n".join(self.lines())

    def to_json(self) -> Any:
        return {"verification_uri": self.grant.verification_uri,
                "verification_uri_complete": self.grant.verification_uri_complete,
                "user_code": self.grant.user_code, "expires_in": self.grant.expires_in}

    def wait(self, cancel: CancelToken | None = None) -> Result:
        """Polls until the login ends; the logged-in result, or a coded AuthError."""
        return self.outcome(self.finish(cancel))


@dataclass(frozen=True)
class LoginRequest:
    device: bool = False
    no_browser: bool = False
    timeout: float = 300.0


@command
class LoginCommand(Command[LoginRequest]):
    name = "login"
    summary = "log in: in a browser on this machine, or with a code (--device) from anywhere"
    Request = LoginRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--device", action="store_true",
                            help="show a code to enter on another device (remote kernels)")
        parser.add_argument("--no-browser", action="store_true",
                            help="only print the login address, open no browser")
        parser.add_argument("--timeout", type=float, default=300.0,
                            help="seconds to wait for the browser (default 300)")

    def run(self, app: AppService, request: LoginRequest, ctx: Context) -> Result:
        _enabled(app)
        auth = app.auth_service()

        def outcome(identity: Identity) -> Result:
            return _logged_in(app, identity, ctx)

        if request.device:
            grant = auth.begin_device()
            return DeviceLogin(grant, lambda cancel: auth.finish_device(grant, cancel),
                               outcome, ctx)

        def show(url: str) -> None:
            if ctx.say is not None:
                ctx.say(ctx.t("auth-login-open", url=url))

        opener = None if request.no_browser else ctx.open_url
        identity = auth.login_loopback(open_browser=opener, timeout=request.timeout,
                                       on_url=show)
        return outcome(identity)


@dataclass(frozen=True)
class WhoamiRequest:
    refresh: bool = False
    json: bool = False


@command
class WhoamiCommand(Command[WhoamiRequest]):
    name = "whoami"
    summary = "who is logged in: username, role, provider, when the access token expires"
    Request = WhoamiRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--refresh", action="store_true",
                            help="get new tokens first (a role changed at the provider)")

    def run(self, app: AppService, request: WhoamiRequest, ctx: Context) -> Result:
        auth = app.auth_service()
        if not auth.enabled:
            return Message(ctx.t("auth-off"), data={"auth": "off"})
        identity = auth.refresh() if request.refresh else auth.current()
        if identity is None:
            raise AuthLoginRequiredError()
        table = identity_lines(identity, ctx, auth.profile)
        return dataclasses.replace(table, title=ctx.t("auth-whoami-title"))


@dataclass(frozen=True)
class LogoutRequest:
    json: bool = False


@command
class LogoutCommand(Command[LogoutRequest]):
    name = "logout"
    summary = "log out: revoke the refresh token at the provider and end the session"
    Request = LogoutRequest

    def run(self, app: AppService, request: LogoutRequest, ctx: Context) -> Result:
        auth = app.auth_service()
        ended = auth.logout()
        return Message(ctx.t("auth-logged-out" if ended else "auth-nobody-logged-in"),
                       data={"logged_out": ended})


# -- users ------------------------------------------------------------------------------------


def _user_record(user: ResourceUser) -> dict[str, Any]:
    return {"user_id": user.user_id, "username": user.username,
            "first_name": user.first_name, "last_name": user.last_name,
            "role": short_role(user.role) if user.role else None}


@dataclass(frozen=True)
class UsersLsRequest:
    page: int = 1
    page_size: int = 30
    json: bool = False


class UsersLs(Verb[UsersLsRequest]):
    name = "ls"
    summary = "this deployment's users and their roles (manager or admin)"
    action = Action.USERS
    Request = UsersLsRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--page", type=int, default=1, help="the page (from 1)")
        parser.add_argument("--page-size", type=int, default=30, help="users per page")

    def run(self, app: AppService, request: UsersLsRequest, ctx: Context) -> Result:
        if request.page < 1 or not 1 <= request.page_size <= 100:
            raise BadArgumentsError(command=self.group, reason=ctx.t("auth-users-bad-page"))
        _enabled(app)
        found = app.auth_service().list_users(request.page, request.page_size)
        records = [_user_record(u) for u in found.users]
        rows = [(u.username, " ".join(p for p in (u.first_name, u.last_name) if p),
                 short_role(u.role), u.user_id) for u in found.users]
        table = ctx.table(("username", "name", "role", "user_id"), rows, records=records,
                          title=ctx.t("auth-users-title", client=found.client_id,
                                      page=found.page, pages=max(found.total_pages, 1),
                                      total=found.total_users))
        data = {"client_id": found.client_id, "users": records, "page": found.page,
                "page_size": found.page_size, "total_pages": found.total_pages,
                "total_users": found.total_users, "has_next": found.has_next,
                "has_previous": found.has_previous}
        return WithJson(table, data)


@dataclass(frozen=True)
class UsersSetRoleRequest:
    user: str = ""
    role: str = ""
    json: bool = False


class UsersSetRole(Verb[UsersSetRoleRequest]):
    name = "set-role"
    summary = "give a user a role (at or below yours; the user's role must be below yours)"
    action = Action.USERS_MANAGE
    Request = UsersSetRoleRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("user", help="username or user id")
        parser.add_argument("role", help="user, power_user, manager or admin")

    def run(self, app: AppService, request: UsersSetRoleRequest, ctx: Context) -> Result:
        _enabled(app)
        done = app.auth_service().set_role(request.user, request.role)
        return Message(ctx.t("auth-role-set", user=done.username, role=short_role(done.role)),
                       (ctx.t("auth-sessions-cleared"),), data=_user_record(done))


@dataclass(frozen=True)
class UsersRemoveRequest:
    user: str = ""
    yes: bool = False
    json: bool = False


class UsersRemove(Verb[UsersRemoveRequest]):
    name = "remove"
    summary = "take a user's access to this deployment away"
    action = Action.USERS_MANAGE
    Request = UsersRemoveRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("user", help="username or user id")
        parser.add_argument("-y", "--yes", action="store_true", help="do not ask")

    def run(self, app: AppService, request: UsersRemoveRequest, ctx: Context) -> Result:
        _enabled(app)
        if not confirmed(ctx, ctx.t("auth-remove-confirm", user=request.user),
                         yes=request.yes, command=self.group,
                         needs_yes=ctx.t("auth-remove-needs-yes")):
            return Message(ctx.t("auth-remove-kept", user=request.user))
        done = app.auth_service().remove_user(request.user)
        return Message(ctx.t("auth-user-removed", user=done.username),
                       data=_user_record(done))


@command
class UsersCommand(Group):
    name = "users"
    summary = "list users and their roles, set a role, remove a user (manager or admin)"
    verbs = (UsersLs(), UsersSetRole(), UsersRemove())
    default_verb = "ls"
