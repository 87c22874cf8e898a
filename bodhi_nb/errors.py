"""The error tree of bodhi_nb.

Every error the package raises on purpose derives from :class:`BodhiError`. A branch per
service (or layer) sits below it, and each concrete error is a leaf of exactly one branch::

    BodhiError
    ├── ObjValidationError        invalid_repo, out_of_range, invalid_value, invalid_enum
    ├── SettingServiceError       unknown_key, invalid_value, read_only, unreadable_file
    ├── DbError                   busy, migration_tampered, migration_failed, query_failed,
    │                             not_found, conflict, constraint
    ├── LocalizationServiceError  unsupported_locale
    ├── AppServiceError           service_not_available
    ├── CommandError              unknown_command, bad_arguments, internal, ambiguous_id,
    │                             no_space, permission_denied, not_a_folder, os, ...
    ├── KeyringError              unavailable, key_file_insecure, env_key_too_short, ...
    ├── SecretError               decrypt_failed, malformed_envelope, value_on_command_line, ...
    ├── SessionError              not_found, expired, invalid_data
    ├── HubServiceError           gated_no_token, gated_access, may_not_exist, repo_not_found,
    │                             revision_not_found, remote_file_not_found, transport, ...
    ├── DataServiceError          alias_exists, alias_not_found, gguf_invalid,
    │                             quant_not_found, local_file_not_found, ...
    ├── LocalLlmServiceError      runtime_missing, start_failed, start_timeout, ...
    ├── AiApiServiceError         unreachable, unauthorized, model_not_found, rate_limited,
    │                             context_too_long, stream_interrupted, ...
    ├── ChatServiceError          model_not_downloaded, no_model, bad_param,
    │                             embeddings_local_only
    ├── HistoryError              bad_sql, not_a_query
    ├── OfflineHubError           root_not_a_folder, port_in_use, cannot_listen,
    │                             already_serving
    ├── AuthError                 token_malformed, token_algorithm, token_unknown_key,
    │                             token_signature, token_issuer, token_audience, ...,
    │                             issuer_unreachable, discovery_broken, invalid_client,
    │                             login_again, access_denied, device_expired,
    │                             provider_unavailable, provider_refused, forbidden, ...,
    │                             not_set_up, state_mismatch, login_timeout, login_required,
    │                             insufficient_role, user_not_found, role_above_yours,
    │                             not_below_you, unknown_role
    ├── AccessError               already_has_access, already_pending, already_processed,
    │                             not_found
    ├── ServeError                needs_auth, port_in_use, cannot_listen, already_serving,
    │                             bad_json, bad_field, route_not_found, token_required, ...
    ├── LockError                 malformed, unsupported_version, not_found, nothing_used,
    │                             unknown_name, api_alias, not_downloaded, hash_mismatch,
    │                             commit_not_found, model_missing
    └── TokenError                malformed, bad_checksum, unknown, revoked, name_taken,
                                  not_found, scope_above_yours, bad_scope, bad_name,
                                  session_only

:func:`all_error_classes` lists every leaf; a test checks each has a message in every
locale, and that this tree names every branch.

The error ``code`` is derived from the class names as BodhiApp does: the branch name and
the leaf name in snake case, joined by ``-``, with the leaf's ``Error`` suffix dropped
(``DbError`` + ``BusyError`` -> ``db_error-busy``). The code is also the message id in the
Fluent catalogues under ``bodhi_nb/locales``; ``args`` fill the message's placeholders.

``str(error)`` is the code and its arguments (stable, English-free, safe to log). Front ends
render the localized line with :func:`bodhi_nb.commands.render_error`. Every error class is
defined in this module: :func:`error_class` maps a stored code back to its class without
importing anything else.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, ClassVar

__all__ = [
    "AliasExistsError",
    "AliasFileConflictError",
    "AliasFileError",
    "AliasNotFoundError",
    "AppServiceError",
    "BadArgumentsError",
    "BadParamError",
    "ChatServiceError",
    "ModelNotDownloadedError",
    "NoModelError",
    "BodhiError",
    "BusyError",
    "CommandError",
    "ConflictError",
    "ConstraintError",
    "DataServiceError",
    "DbError",
    "ErrorType",
    "UnreadableFileError",
    "GgufInvalidError",
    "InternalError",
    "InvalidAliasNameError",
    "InvalidEnumError",
    "InvalidLocalFilenameError",
    "InvalidLocalRevisionError",
    "InvalidRepoError",
    "InvalidValueError",
    "LocalFileNotFoundError",
    "LocalizationServiceError",
    "MigrationFailedError",
    "MigrationTamperedError",
    "NotFoundError",
    "ObjValidationError",
    "OutOfRangeError",
    "QuantAmbiguousError",
    "QuantNotFoundError",
    "QueryFailedError",
    "ReadOnlyError",
    "ServiceNotAvailableError",
    "SettingInvalidValueError",
    "SettingServiceError",
    "UnknownCommandError",
    "UnknownKeyError",
    "UnsupportedLocaleError",
    "all_error_classes",
    "snake_case",
]


class ErrorType(StrEnum):
    """Wire names of BodhiApp's error types; each maps to an HTTP status."""

    INVALID_REQUEST = "invalid_request_error"
    AUTHENTICATION = "authentication_error"
    FORBIDDEN = "forbidden_error"
    NOT_FOUND = "not_found_error"
    CONFLICT = "conflict_error"
    UNPROCESSABLE_ENTITY = "unprocessable_entity_error"
    INTERNAL_SERVER = "internal_server_error"
    SERVICE_UNAVAILABLE = "service_unavailable"

    @property
    def status(self) -> int:
        return _STATUS[self]


_STATUS = {
    ErrorType.INVALID_REQUEST: 400,
    ErrorType.AUTHENTICATION: 401,
    ErrorType.FORBIDDEN: 403,
    ErrorType.NOT_FOUND: 404,
    ErrorType.CONFLICT: 409,
    ErrorType.UNPROCESSABLE_ENTITY: 422,
    ErrorType.INTERNAL_SERVER: 500,
    ErrorType.SERVICE_UNAVAILABLE: 503,
}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``HubServiceError`` -> ``hub_service_error``; ``DBBusy`` -> ``db_busy``."""
    return _CAMEL.sub("_", name).lower()


#: code -> leaf class, filled as this module defines its classes (see ``__init_subclass__``):
#: the static map :func:`error_class` reads, with no walk of the package and no import.
_BY_CODE: dict[str, type[BodhiError]] = {}


class BodhiError(Exception):
    """Root of every error bodhi_nb raises on purpose.

    Subclass a branch (a direct subclass of this class) to make a leaf; set ``error_type``
    on the leaf or inherit the branch's. Arguments are keyword-only and become ``args``
    for the message; never pass a secret value as an argument.
    """

    error_type: ClassVar[ErrorType] = ErrorType.INTERNAL_SERVER
    code: ClassVar[str] = "bodhi_error"
    #: True for branch classes (direct subclasses of BodhiError); leaves are concrete.
    is_branch: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if BodhiError in cls.__bases__:
            cls.is_branch = True
            cls.code = snake_case(cls.__name__)
            return
        cls.is_branch = False
        branch = next(b for b in cls.__mro__[1:] if issubclass(b, BodhiError) and b.is_branch)
        leaf = cls.__name__.removesuffix("Error")
        # A leaf may repeat its branch's first word to stay unique in the module:
        # SettingInvalidValueError under SettingServiceError reads as "invalid_value".
        first_word = _CAMEL.split(branch.__name__)[0]
        for prefix in (branch.__name__.removesuffix("Error"), first_word):
            if leaf.startswith(prefix) and leaf != prefix:
                leaf = leaf.removeprefix(prefix)
                break
        cls.code = f"{branch.code}-{snake_case(leaf)}"
        if cls.__module__ == __name__:  # the tree is this module's; a test's subclass is not
            if cls.code in _BY_CODE:
                raise TypeError(f"error code {cls.code!r} defined twice")
            _BY_CODE[cls.code] = cls

    def __init__(self, **args: Any) -> None:
        self.params: dict[str, str] = {k: _to_arg(v) for k, v in args.items()}
        super().__init__(self.code)

    @property
    def status(self) -> int:
        return self.error_type.status

    def __str__(self) -> str:
        if not self.params:
            return self.code
        inner = ", ".join(f"{k}={v!r}" for k, v in sorted(self.params.items()))
        return f"{self.code} ({inner})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def to_envelope(self, message: str) -> dict[str, Any]:
        """BodhiApp's OpenAI-compatible error envelope."""
        body: dict[str, Any] = {"message": message, "type": str(self.error_type), "code": self.code}
        if self.params:
            body["params"] = dict(self.params)
        return {"error": body}


def _to_arg(value: Any) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(v) for v in value)
    return str(value)


# -- domain objects -------------------------------------------------------------------------


class ObjValidationError(BodhiError):
    error_type = ErrorType.INVALID_REQUEST


class InvalidRepoError(ObjValidationError):
    """args: value"""


class OutOfRangeError(ObjValidationError):
    """args: name, value, min, max"""


class InvalidValueError(ObjValidationError):
    """args: name, value, reason"""


class InvalidEnumError(ObjValidationError):
    """args: name, value, allowed"""


# -- settings -------------------------------------------------------------------------------


class SettingServiceError(BodhiError):
    error_type = ErrorType.INVALID_REQUEST


class UnknownKeyError(SettingServiceError):
    """args: key, known"""


class SettingInvalidValueError(SettingServiceError):
    """args: key, value, expected"""


class ReadOnlyError(SettingServiceError):
    """args: key"""


class UnreadableFileError(SettingServiceError):
    """args: path, reason"""

    error_type = ErrorType.INTERNAL_SERVER


class UnwritableFileError(SettingServiceError):
    """settings.yaml cannot be written (a read-only BODHI_HOME, say). args: path, reason"""

    error_type = ErrorType.INTERNAL_SERVER


__all__ += ["UnwritableFileError"]  # issue 8, kept beside its class


# -- database -------------------------------------------------------------------------------


class DbError(BodhiError):
    error_type = ErrorType.INTERNAL_SERVER


class BusyError(DbError):
    """args: path, pid, seconds"""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class MigrationTamperedError(DbError):
    """args: version, name"""


class MigrationFailedError(DbError):
    """args: version, name, reason"""


class QueryFailedError(DbError):
    """args: reason"""


class NotFoundError(DbError):
    """args: table, id"""

    error_type = ErrorType.NOT_FOUND


class ConstraintError(DbError):
    """A row broke a UNIQUE/CHECK/NOT NULL rule. args: reason"""

    error_type = ErrorType.CONFLICT


class ConflictError(DbError):
    """args: table, id"""

    error_type = ErrorType.CONFLICT


class HomeNotADirectoryError(DbError):
    """Something other than a folder is where BODHI_HOME should be. args: path"""

    error_type = ErrorType.INVALID_REQUEST


class HomeNotWritableError(DbError):
    """BODHI_HOME (or a file in it) cannot be created or written. args: path, reason"""


class CorruptError(DbError):
    """The database file is not a DuckDB database (truncated, damaged). args: path, reason"""


__all__ += ["CorruptError", "HomeNotADirectoryError", "HomeNotWritableError"]  # issue 8


# -- the store floor (issue 9): schema versions and PostgreSQL connections -------------------


class SchemaTooNewError(DbError):
    """The database was migrated by a newer bodhi_nb. args: version, supported"""

    error_type = ErrorType.CONFLICT


class BadUrlError(DbError):
    """BODHI_DATABASE_URL cannot be used. args: url (password redacted), reason"""

    error_type = ErrorType.INVALID_REQUEST


class UnreachableError(DbError):
    """The database server does not answer. args: location, reason"""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class AuthFailedError(DbError):
    """The server refused the user name or password. args: location, user"""

    error_type = ErrorType.AUTHENTICATION


class DatabaseMissingError(DbError):
    """The server has no such database. args: location, database"""

    error_type = ErrorType.NOT_FOUND


class DriverMissingError(DbError):
    """The backend's Python driver is not installed. args: backend, extra"""

    error_type = ErrorType.SERVICE_UNAVAILABLE


__all__ += ["AuthFailedError", "BadUrlError", "DatabaseMissingError", "DriverMissingError",
            "SchemaTooNewError", "UnreachableError"]


# -- localization ---------------------------------------------------------------------------


class LocalizationServiceError(BodhiError):
    error_type = ErrorType.INVALID_REQUEST


class UnsupportedLocaleError(LocalizationServiceError):
    """args: locale, supported"""


# -- registry -------------------------------------------------------------------------------


class AppServiceError(BodhiError):
    error_type = ErrorType.SERVICE_UNAVAILABLE


class ServiceNotAvailableError(AppServiceError):
    """args: service"""


class OverridesConflictError(AppServiceError):
    """``bodhi_nb.app(home, overrides)`` with overrides other than those the registry of
    that home was built with. args: home, keys"""

    error_type = ErrorType.CONFLICT


__all__ += ["OverridesConflictError"]


# -- command grammar ------------------------------------------------------------------------


class CommandError(BodhiError):
    error_type = ErrorType.INVALID_REQUEST


class UnknownCommandError(CommandError):
    """args: command, commands, suggestion (the closest command name, or "")"""


class BadArgumentsError(CommandError):
    """args: command, reason"""


class InternalError(CommandError):
    """An unexpected exception escaped a command. args: kind"""

    error_type = ErrorType.INTERNAL_SERVER


class AmbiguousIdError(CommandError):
    """A typed id prefix or suffix that names several rows. args: id, matches"""


# The command layer's safety net for an OSError no service named itself (see
# bodhi_nb.commands.os_error). args: path, reason (the system's words), kind


class CommandNoSpaceError(CommandError):
    """ENOSPC, EDQUOT, EFBIG."""

    error_type = ErrorType.INTERNAL_SERVER


class CommandPermissionDeniedError(CommandError):
    """EACCES, EPERM, EROFS."""

    error_type = ErrorType.FORBIDDEN


class CommandNotAFolderError(CommandError):
    """ENOTDIR: a file where a folder should be."""

    error_type = ErrorType.INTERNAL_SERVER


class CommandIsAFolderError(CommandError):
    """EISDIR: a folder where a file should be."""

    error_type = ErrorType.INTERNAL_SERVER


class CommandPathNotFoundError(CommandError):
    """ENOENT."""

    error_type = ErrorType.NOT_FOUND


class CommandOsError(CommandError):
    """Any other OSError."""

    error_type = ErrorType.INTERNAL_SERVER


__all__ += [  # the command layer's leaves added in issue 8
    "AmbiguousIdError", "CommandIsAFolderError", "CommandNoSpaceError",
    "CommandNotAFolderError", "CommandOsError", "CommandPathNotFoundError",
    "CommandPermissionDeniedError",
]


# -- keyring, secrets, sessions (issue 3): KeyringError, SecretError, SessionError ---------


class KeyringError(BodhiError):
    """The master key and the OS keyring. Never carries a key or a credential."""

    error_type = ErrorType.INTERNAL_SERVER


class KeyringUnavailableError(KeyringError):
    """No usable keyring backend for a credential. args: reason"""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class KeyringBackendFailedError(KeyringError):
    """The keyring backend raised. args: backend, reason"""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class EnvKeyTooShortError(KeyringError):
    """BODHI_ENCRYPTION_KEY is too short. args: length, min"""

    error_type = ErrorType.INVALID_REQUEST


class EnvKeyPlaceholderError(KeyringError):
    """BODHI_ENCRYPTION_KEY is a documentation placeholder. args: none"""

    error_type = ErrorType.INVALID_REQUEST


class EnvKeyRotationError(KeyringError):
    """rotate-key while BODHI_ENCRYPTION_KEY already seals everything. args: none"""

    error_type = ErrorType.INVALID_REQUEST


class KeyFileInsecureError(KeyringError):
    """The key file is readable by others. args: path, mode"""

    error_type = ErrorType.FORBIDDEN


class KeyFileInvalidError(KeyringError):
    """args: path, reason"""


class KeyFileAccessError(KeyringError):
    """args: path, reason"""


class KeyFileInsideHomeError(KeyringError):
    """args: path, home"""

    error_type = ErrorType.INVALID_REQUEST


class SecretError(BodhiError):
    """Encrypted values: envelopes, names, decryption. Never carries a secret value."""

    error_type = ErrorType.UNPROCESSABLE_ENTITY


class DecryptFailedError(SecretError):
    """Wrong master key or a tampered value. args: name"""


class MalformedEnvelopeError(SecretError):
    """args: name, reason"""


class UnsupportedEnvelopeError(SecretError):
    """args: name, version"""


class MasterKeyMissingError(SecretError):
    """The key that sealed the stored secrets is nowhere to be found. args: key_id"""

    error_type = ErrorType.INTERNAL_SERVER


class SecretNotFoundError(SecretError):
    """args: name"""

    error_type = ErrorType.NOT_FOUND


class SecretInvalidNameError(SecretError):
    """args: name"""

    error_type = ErrorType.INVALID_REQUEST


class ValueOnCommandLineError(SecretError):
    """A secret value was typed on the command line. args: name"""

    error_type = ErrorType.INVALID_REQUEST


class EmptyValueError(SecretError):
    """args: name"""

    error_type = ErrorType.INVALID_REQUEST


class NoPromptError(SecretError):
    """No way to ask for the value without echo. args: name"""

    error_type = ErrorType.INVALID_REQUEST


class SessionError(BodhiError):
    error_type = ErrorType.AUTHENTICATION


class SessionNotFoundError(SessionError):
    """args: none (a session id is a credential and never appears in an error)"""


class SessionExpiredError(SessionError):
    """args: none"""


class SessionInvalidDataError(SessionError):
    """args: reason"""

    error_type = ErrorType.INVALID_REQUEST


__all__ += [  # issue 3's branch, kept beside its classes
    "DecryptFailedError", "EmptyValueError", "EnvKeyPlaceholderError", "EnvKeyRotationError",
    "EnvKeyTooShortError", "KeyFileAccessError", "KeyFileInsecureError",
    "KeyFileInsideHomeError", "KeyFileInvalidError", "KeyringBackendFailedError",
    "KeyringError", "KeyringUnavailableError", "MalformedEnvelopeError",
    "MasterKeyMissingError", "NoPromptError", "SecretError", "SecretInvalidNameError",
    "SecretNotFoundError", "SessionError", "SessionExpiredError", "SessionInvalidDataError",
    "SessionNotFoundError", "UnsupportedEnvelopeError", "ValueOnCommandLineError",
]

# -- Hugging Face Hub and downloads (issue 4): HubServiceError -----------------------------


class HubServiceError(BodhiError):
    error_type = ErrorType.INTERNAL_SERVER


class InvalidReferenceError(HubServiceError):
    """A pull reference that does not parse. args: value, reason"""

    error_type = ErrorType.INVALID_REQUEST


class GatedNoTokenError(HubServiceError):
    """args: repo, url"""

    error_type = ErrorType.AUTHENTICATION


class GatedAccessError(HubServiceError):
    """args: repo, url"""

    error_type = ErrorType.FORBIDDEN


class HubCancelledError(HubServiceError):
    """The user cancelled the download (``CancelToken``); its partial file stays, so the
    next pull resumes it. args: repo, filename"""

    error_type = ErrorType.CONFLICT


__all__ += ["HubCancelledError"]  # issue 10's panels (cancellable pulls), beside its class


class MayNotExistError(HubServiceError):
    """Anonymous RepoNotFound: missing, or private. args: repo"""

    error_type = ErrorType.NOT_FOUND


class RepoNotFoundError(HubServiceError):
    """args: repo"""

    error_type = ErrorType.NOT_FOUND


class RevisionNotFoundError(HubServiceError):
    """args: repo, revision"""

    error_type = ErrorType.NOT_FOUND


class RemoteFileNotFoundError(HubServiceError):
    """args: repo, filename, revision"""

    error_type = ErrorType.NOT_FOUND


class InvalidTokenError(HubServiceError):
    """The Hub refused the token itself. args: source"""

    error_type = ErrorType.AUTHENTICATION


class RateLimitedError(HubServiceError):
    """args: retry_after"""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class TransportError(HubServiceError):
    """args: endpoint, reason"""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class UnknownHubError(HubServiceError):
    """args: status, url"""


class ChecksumMismatchError(HubServiceError):
    """args: repo, filename, expected, actual"""


class DownloadNotFoundError(HubServiceError):
    """args: id"""

    error_type = ErrorType.NOT_FOUND


class DownloadActiveError(HubServiceError):
    """args: id"""

    error_type = ErrorType.CONFLICT


class DownloadNotFailedError(HubServiceError):
    """args: id, status"""

    error_type = ErrorType.CONFLICT


# Issue 8: a hub that lies, a disk that fills, an endpoint that is not a hub. Every URL in
# these arguments has gone through redact_url, every server string through strip_control.


class BadMetadataError(HubServiceError):
    """A header the cache layout is built from is not what a Hub sends (a commit that is not
    40 hex digits, an etag that is not a SHA-1/SHA-256). Nothing is written.
    args: url, field, value"""

    error_type = ErrorType.UNPROCESSABLE_ENTITY


class UnverifiableFileError(HubServiceError):
    """An LFS file whose etag is no SHA-256: it could only be published on trust.
    args: repo, filename, url"""

    error_type = ErrorType.UNPROCESSABLE_ENTITY


class UnsafePathError(HubServiceError):
    """A computed cache path leaves the repository's cache folder. args: path, base"""

    error_type = ErrorType.UNPROCESSABLE_ENTITY


class HubBadResponseError(HubServiceError):
    """HTML, or JSON of the wrong shape, where the Hub API answers JSON. args: url, reason"""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class InvalidEndpointError(HubServiceError):
    """HF_ENDPOINT is not an http(s) URL with a host. args: url, reason"""

    error_type = ErrorType.INVALID_REQUEST


class NoSpaceError(HubServiceError):
    """The disk (or quota, or file-size limit) is full. args: path, partial, size"""


class CannotWriteError(HubServiceError):
    """The cache folder cannot be written (read-only, permissions). args: path, reason"""


class CachedFileTruncatedError(HubServiceError):
    """The cached copy is not the size the Hub gives for it. args: repo, filename, path, size,
    expected"""

    error_type = ErrorType.CONFLICT


__all__ += [  # issue 8's hub errors, kept beside their classes
    "BadMetadataError", "CachedFileTruncatedError", "CannotWriteError", "HubBadResponseError",
    "InvalidEndpointError", "NoSpaceError", "UnsafePathError", "UnverifiableFileError",
]


# Issue 15: parallel ranged pulls. Both end a pull whose partial file stays for a resume.


class UrlExpiredError(HubServiceError):
    """The signed download URL kept expiring (HTTP 403/410) even right after the Hub handed
    out a new one. args: filename, status"""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class RemoteFileChangedError(HubServiceError):
    """The file changed on the Hub during the download (another etag or size when its URL
    was resolved again). args: repo, filename"""

    error_type = ErrorType.CONFLICT


__all__ += ["RemoteFileChangedError", "UrlExpiredError"]  # issue 15, beside their classes

# -- aliases, GGUF metadata, local models (issue 4): DataServiceError ----------------------


class DataServiceError(BodhiError):
    error_type = ErrorType.INVALID_REQUEST


class AliasExistsError(DataServiceError):
    """args: alias"""

    error_type = ErrorType.CONFLICT


class AliasNotFoundError(DataServiceError):
    """args: alias"""

    error_type = ErrorType.NOT_FOUND


class AliasFileConflictError(DataServiceError):
    """Two names sanitise to the same alias file. args: alias, other, path"""

    error_type = ErrorType.CONFLICT


class InvalidAliasNameError(DataServiceError):
    """args: alias, reason"""


class AliasFileError(DataServiceError):
    """An alias file cannot be read, parsed or written. args: path, reason"""

    error_type = ErrorType.INTERNAL_SERVER


class GgufInvalidError(DataServiceError):
    """Not a GGUF file, or a truncated one. args: path, reason"""

    error_type = ErrorType.UNPROCESSABLE_ENTITY


class QuantNotFoundError(DataServiceError):
    """args: quant, available"""

    error_type = ErrorType.NOT_FOUND


class QuantAmbiguousError(DataServiceError):
    """args: quant, candidates"""


class LocalFileNotFoundError(DataServiceError):
    """args: repo, filename, revision"""

    error_type = ErrorType.NOT_FOUND


class InvalidLocalFilenameError(DataServiceError):
    """args: filename, reason"""


class InvalidLocalRevisionError(DataServiceError):
    """args: revision, reason"""


# -- chat, API aliases, llama.cpp (issue 5): AiApiServiceError, LocalLlmServiceError -------


class LocalLlmServiceError(BodhiError):
    """The llama.cpp server child process that runs a local alias's GGUF."""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class RuntimeMissingError(LocalLlmServiceError):
    """Neither llama-server nor the Python runtime (``bodhi_nb[local]``). args: module"""


class ServerBinaryNotFoundError(LocalLlmServiceError):
    """BODHI_LLAMA_SERVER names no executable. args: path"""


class InvalidServerArgsError(LocalLlmServiceError):
    """BODHI_LLAMACPP_ARGS or an alias's context_params do not parse. args: source, value,
    reason"""

    error_type = ErrorType.INVALID_REQUEST


class ModelFileMissingError(LocalLlmServiceError):
    """args: alias, path"""

    error_type = ErrorType.NOT_FOUND


class StartFailedError(LocalLlmServiceError):
    """The server exited before it was ready. args: alias, exit_code, log, stderr_tail
    (scrubbed)"""

    error_type = ErrorType.INTERNAL_SERVER


class StartTimeoutError(LocalLlmServiceError):
    """The server was not ready in time (it is stopped). args: alias, seconds, log,
    stderr_tail (scrubbed)"""


__all__ += [  # issue 5's llama.cpp branch, kept beside its classes
    "InvalidServerArgsError", "LocalLlmServiceError", "ModelFileMissingError",
    "RuntimeMissingError", "ServerBinaryNotFoundError", "StartFailedError",
    "StartTimeoutError",
]


class AiApiServiceError(BodhiError):
    """OpenAI-compatible providers and API aliases. Never carries an API key: ``url`` is a
    base URL without credentials or query, ``reason`` is scrubbed server text."""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class AiUnreachableError(AiApiServiceError):
    """Connection refused, DNS, TLS, proxy, or a timeout. args: alias, url, reason"""


class AiUnauthorizedError(AiApiServiceError):
    """The provider rejected the key (401/403). args: alias, status"""

    error_type = ErrorType.AUTHENTICATION


class AiModelNotFoundError(AiApiServiceError):
    """404 on a chat request, or an alias with no model to send. args: alias, model"""

    error_type = ErrorType.NOT_FOUND


class EndpointNotFoundError(AiApiServiceError):
    """404 on ``GET {base_url}/models``: most likely a wrong base URL. args: alias, url"""

    error_type = ErrorType.NOT_FOUND


class AiRateLimitedError(AiApiServiceError):
    """429. args: alias, retry_after (seconds, or "none" when the server gave none)"""


class ContextTooLongError(AiApiServiceError):
    """400/413/422 about the context window. args: alias, model, reason"""

    error_type = ErrorType.INVALID_REQUEST


class RequestRejectedError(AiApiServiceError):
    """Any other 4xx. args: alias, status, reason"""

    error_type = ErrorType.INVALID_REQUEST


class UpstreamFailedError(AiApiServiceError):
    """5xx from the provider. args: alias, status, url"""


class StreamInterruptedError(AiApiServiceError):
    """The connection dropped, or the stream ended before [DONE]. args: alias, received
    (characters of text received), reason"""


class BadResponseError(AiApiServiceError):
    """Not JSON, or JSON without the expected fields. args: alias, url, reason"""

    error_type = ErrorType.INTERNAL_SERVER


class AiAliasExistsError(AiApiServiceError):
    """args: alias"""

    error_type = ErrorType.CONFLICT


class AiAliasNotFoundError(AiApiServiceError):
    """args: alias"""

    error_type = ErrorType.NOT_FOUND


class PrefixExistsError(AiApiServiceError):
    """args: prefix, alias (the alias that has it)"""

    error_type = ErrorType.CONFLICT


class InvalidBaseUrlError(AiApiServiceError):
    """args: url (credentials and query removed), reason"""

    error_type = ErrorType.INVALID_REQUEST


class UnsupportedApiFormatError(AiApiServiceError):
    """args: alias, format, supported"""

    error_type = ErrorType.INVALID_REQUEST


class ApiKeyOnCommandLineError(AiApiServiceError):
    """A word that may be a key was typed on the command line. args: alias"""

    error_type = ErrorType.INVALID_REQUEST


class ApiKeyEnvMissingError(AiApiServiceError):
    """``--api-key-env VAR`` names an unset or empty variable. args: var"""

    error_type = ErrorType.INVALID_REQUEST


class ApiKeyNoPromptError(AiApiServiceError):
    """No way to ask for the key without echo. args: alias"""

    error_type = ErrorType.INVALID_REQUEST


__all__ += [  # issue 5's AI API branch, kept beside its classes
    "AiAliasExistsError", "AiAliasNotFoundError", "AiApiServiceError",
    "AiModelNotFoundError", "AiRateLimitedError", "AiUnauthorizedError",
    "AiUnreachableError", "ApiKeyEnvMissingError", "ApiKeyNoPromptError",
    "ApiKeyOnCommandLineError", "BadResponseError", "ContextTooLongError",
    "EndpointNotFoundError", "InvalidBaseUrlError", "PrefixExistsError",
    "RequestRejectedError", "StreamInterruptedError", "UnsupportedApiFormatError",
    "UpstreamFailedError",
]



# -- chat orchestration and history (issue 5): ChatServiceError -----------------------------


class ChatServiceError(BodhiError):
    error_type = ErrorType.INVALID_REQUEST


class ModelNotDownloadedError(ChatServiceError):
    """args: alias, repo, filename"""

    error_type = ErrorType.NOT_FOUND


class NoModelError(ChatServiceError):
    """An API alias named without a model it can serve. args: alias"""


class BadParamError(ChatServiceError):
    """args: name, value, reason"""


# -- SQL over the chat history (issue 14): HistoryError ---------------------------------------


class HistoryError(BodhiError):
    error_type = ErrorType.INVALID_REQUEST


class BadSqlError(HistoryError):
    """The SQL of ``history --sql`` / ``bodhi_nb.history()`` failed. args: reason (DuckDB's
    first line)"""


class NotAQueryError(HistoryError):
    """Not one query: a write, an ATTACH, several statements. args: kind"""


__all__ += ["BadSqlError", "HistoryError", "NotAQueryError"]  # issue 14's SQL history


# -- the chat panel (issue 10): CommandError leaves -------------------------------------------


class NoAliasChosenError(CommandError):
    """The chat panel's Send with no alias picked (none exists, or the one asked for is
    unknown). args: none"""


class NoAliasForFileError(CommandError):
    """The models panel's Chat on a file that no alias serves (a vision projector, a later
    part of a split model). args: repo, filename"""

    error_type = ErrorType.NOT_FOUND


__all__ += ["NoAliasChosenError", "NoAliasForFileError"]  # issue 10's chat panel


# -- the offline Hub (issue 9): OfflineHubError ---------------------------------------------


class OfflineHubError(BodhiError):
    error_type = ErrorType.INVALID_REQUEST


class OfflineHubRootNotAFolderError(OfflineHubError):
    """``hub serve DIR`` names something that is not a folder. args: path"""


class OfflineHubPortInUseError(OfflineHubError):
    """Another program listens on the port. args: host, port"""

    error_type = ErrorType.CONFLICT


class OfflineHubCannotListenError(OfflineHubError):
    """The address cannot be listened on (an unknown host, no permission). args: host,
    port, reason"""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class OfflineHubAlreadyServingError(OfflineHubError):
    """This process already serves an offline Hub. args: endpoint, root"""

    error_type = ErrorType.CONFLICT


__all__ += [  # issue 9's offline Hub branch, kept beside its classes
    "OfflineHubAlreadyServingError", "OfflineHubCannotListenError", "OfflineHubError",
    "OfflineHubPortInUseError", "OfflineHubRootNotAFolderError",
]


# -- identity (issue 11): AuthError --------------------------------------------------------


class AuthError(BodhiError):
    error_type = ErrorType.AUTHENTICATION


class AuthTokenMalformedError(AuthError):
    """The access token is not a well-formed signed JWT."""


class AuthTokenAlgorithmError(AuthError):
    """The token names an algorithm that is not allowed (none, HMAC...). args: alg"""


class AuthTokenUnknownKeyError(AuthError):
    """The token's key id is not among the provider's keys, even after fetching them anew."""


class AuthTokenSignatureError(AuthError):
    """The token's signature does not verify."""


class AuthTokenIssuerError(AuthError):
    """The token was issued by another provider. args: expected"""


class AuthTokenAudienceError(AuthError):
    """The token is not meant for this deployment's client. args: client"""


class AuthTokenExpiredError(AuthError):
    """The token has expired (beyond the allowed clock skew)."""


class AuthTokenNotYetValidError(AuthError):
    """The token is not valid yet (beyond the allowed clock skew)."""


class AuthJwksUnavailableError(AuthError):
    """The provider's signing keys could not be read. args: reason"""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class AuthIssuerNotSetError(AuthError):
    """No OpenID issuer is configured (or it is not an http(s) URL)."""

    error_type = ErrorType.INVALID_REQUEST


class AuthIssuerUnreachableError(AuthError):
    """The provider could not be reached. args: issuer, reason"""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class AuthDiscoveryBrokenError(AuthError):
    """The discovery document is missing, unreadable or lacks an endpoint. args: issuer, reason"""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class AuthInvalidClientError(AuthError):
    """The provider does not know this client id / secret. args: endpoint"""


class AuthLoginAgainError(AuthError):
    """The refresh token or code is no longer valid (invalid_grant, 401). args: endpoint"""


class AuthAccessDeniedError(AuthError):
    """The user refused the login (device flow or consent)."""

    error_type = ErrorType.FORBIDDEN


class AuthDeviceExpiredError(AuthError):
    """The device code expired before the user approved it."""


class AuthCancelledError(AuthError):
    """The login was cancelled while waiting for the user."""

    error_type = ErrorType.INVALID_REQUEST


class AuthProviderUnavailableError(AuthError):
    """The provider kept failing (5xx or network errors, after retries). args: endpoint,
    reason"""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class AuthProviderRefusedError(AuthError):
    """The provider refused a request (a 4xx other than the above). args: endpoint, error"""

    error_type = ErrorType.INVALID_REQUEST


class AuthForbiddenError(AuthError):
    """A Bodhi resource route answered 403 (the caller's role is too low). args: endpoint"""

    error_type = ErrorType.FORBIDDEN


class AuthConflictError(AuthError):
    """A Bodhi resource route answered 409 (e.g. the resource already has an admin).
    args: endpoint"""

    error_type = ErrorType.CONFLICT


class AuthNotSetUpError(AuthError):
    """BODHI_AUTH_ISSUER is set but this deployment has no client registered with it
    (``AuthService.setup`` was not run for this BODHI_HOME)."""

    error_type = ErrorType.INVALID_REQUEST


class AuthStateMismatchError(AuthError):
    """The login's callback carried another ``state`` than the one sent (a forged or stale
    redirect): the code in it is not exchanged."""

    error_type = ErrorType.INVALID_REQUEST


class AuthLoginTimeoutError(AuthError):
    """The browser did not come back to the loopback listener in time. args: seconds"""

    error_type = ErrorType.INVALID_REQUEST


class AuthLoginRequiredError(AuthError):
    """Authentication is on and nobody is logged in for this profile."""


class AuthUserNotFoundError(AuthError):
    """No user of this deployment's client has that name or id. args: user"""

    error_type = ErrorType.NOT_FOUND


class AuthRoleAboveYoursError(AuthError):
    """A role above the caller's own cannot be given. args: role, have"""

    error_type = ErrorType.FORBIDDEN


class AuthNotBelowYouError(AuthError):
    """A user whose role is not below the caller's cannot be changed or removed
    (yourself included). args: user, role"""

    error_type = ErrorType.FORBIDDEN


class AuthUnknownRoleError(AuthError):
    """Not one of the four resource roles. args: role, roles"""

    error_type = ErrorType.INVALID_REQUEST


class AuthInsufficientRoleError(AuthError):
    """The logged-in user's role is below the one an action needs. args: needed, have"""

    error_type = ErrorType.FORBIDDEN


__all__ += [  # issue 11's identity branch, kept beside its classes
    "AuthError", "AuthJwksUnavailableError", "AuthTokenAlgorithmError",
    "AuthTokenAudienceError", "AuthTokenExpiredError", "AuthTokenIssuerError",
    "AuthTokenMalformedError", "AuthTokenNotYetValidError", "AuthTokenSignatureError",
    "AuthTokenUnknownKeyError",
    # the provider's HTTP client (bodhi_nb.services.oidc_client)
    "AuthAccessDeniedError", "AuthCancelledError", "AuthConflictError",
    "AuthDeviceExpiredError", "AuthDiscoveryBrokenError", "AuthForbiddenError",
    "AuthInvalidClientError", "AuthIssuerNotSetError", "AuthIssuerUnreachableError",
    "AuthLoginAgainError", "AuthProviderRefusedError", "AuthProviderUnavailableError",
    # the login workflows and sessions (bodhi_nb.services.auth)
    "AuthInsufficientRoleError", "AuthLoginTimeoutError", "AuthLoginRequiredError",
    "AuthNotSetUpError", "AuthStateMismatchError",
    # users of the client (bodhi_nb.services.auth)
    "AuthNotBelowYouError", "AuthRoleAboveYoursError", "AuthUnknownRoleError",
    "AuthUserNotFoundError",
]


# -- access requests (issue 12): AccessError ------------------------------------------------


class AccessError(BodhiError):
    error_type = ErrorType.CONFLICT


class AccessAlreadyHasAccessError(AccessError):
    """The user asking for access has a role already. args: role"""


class AccessAlreadyPendingError(AccessError):
    """The user has a request waiting for review already. args: id"""


class AccessAlreadyProcessedError(AccessError):
    """The request was approved or rejected already, or another reviewer is approving it
    right now. args: id, status"""


class AccessNotFoundError(AccessError):
    """No access request has that id. args: id"""


__all__ += [  # issue 12's access requests, kept beside their classes
    "AccessAlreadyHasAccessError", "AccessAlreadyPendingError", "AccessAlreadyProcessedError",
    "AccessError", "AccessNotFoundError",
]


# -- API tokens (issue 13): TokenError --------------------------------------------------------


class TokenError(BodhiError):
    error_type = ErrorType.AUTHENTICATION


class TokenMalformedError(TokenError):
    """Not a bodhi API token (``sk-bodhiapp_`` + 43 random characters + a 6-character
    checksum, then ``.`` + a client id when authentication is on)."""


class TokenBadChecksumError(TokenError):
    """The token's checksum does not match its random part (mistyped or cut short): refused
    without a database read."""


class TokenUnknownError(TokenError):
    """No API token matches (never created here, or deleted)."""


class TokenRevokedError(TokenError):
    """The API token was revoked. args: name"""


class TokenNameTakenError(TokenError):
    """One of the caller's active tokens already has that name. args: name"""

    error_type = ErrorType.CONFLICT


class TokenNotFoundError(TokenError):
    """None of the caller's tokens has that name. args: name"""

    error_type = ErrorType.NOT_FOUND


class TokenScopeAboveYoursError(TokenError):
    """A token cannot reach above its creator's own role. args: scope, have"""

    error_type = ErrorType.FORBIDDEN


class TokenBadScopeError(TokenError):
    """Not a token scope. args: scope, scopes"""

    error_type = ErrorType.INVALID_REQUEST


class TokenBadNameError(TokenError):
    """A token's name: 1 to 64 printable characters. args: name"""

    error_type = ErrorType.INVALID_REQUEST


class TokenSessionOnlyError(TokenError):
    """API tokens are managed from a login (the notebook, the CLI), not with a token."""

    error_type = ErrorType.FORBIDDEN


__all__ += [  # issue 13's API token branch, kept beside its classes
    "TokenBadChecksumError", "TokenBadNameError", "TokenBadScopeError", "TokenError",
    "TokenMalformedError", "TokenNameTakenError", "TokenNotFoundError", "TokenRevokedError",
    "TokenScopeAboveYoursError", "TokenSessionOnlyError", "TokenUnknownError",
]


# -- the OpenAI-compatible endpoint (issue 13): ServeError, and chat leaves it needs --------


class EmbeddingsLocalOnlyError(ChatServiceError):
    """``/v1/embeddings`` names an API alias: embeddings come from local aliases only.
    args: alias"""


class ServeError(BodhiError):
    """``bodhi serve``: starting the endpoint, and requests it refuses before any service
    is asked. Never carries a token."""

    error_type = ErrorType.INVALID_REQUEST


class ServeNeedsAuthError(ServeError):
    """A non-loopback host without a way to authenticate requests. args: host"""


class ServePortInUseError(ServeError):
    """args: host, port"""

    error_type = ErrorType.CONFLICT


class ServeCannotListenError(ServeError):
    """An unknown host, no permission. args: host, port, reason"""

    error_type = ErrorType.SERVICE_UNAVAILABLE


class ServeAlreadyServingError(ServeError):
    """This process already serves the endpoint. args: url"""

    error_type = ErrorType.CONFLICT


class ServeBadJsonError(ServeError):
    """The request body is not a JSON object. args: reason"""


class ServeBadFieldError(ServeError):
    """A field of the request has the wrong type. args: field, reason"""


class ServeRouteNotFoundError(ServeError):
    """args: method, path"""

    error_type = ErrorType.NOT_FOUND


class ServeMethodNotAllowedError(ServeError):
    """args: method, path"""


class ServeTokenRequiredError(ServeError):
    """No ``Authorization: Bearer`` token where one is required."""

    error_type = ErrorType.AUTHENTICATION


class ServeTokenNotAcceptedError(ServeError):
    """A bearer token of a kind this endpoint cannot check (a JWT while OpenID login is
    off)."""

    error_type = ErrorType.AUTHENTICATION


__all__ += [  # issue 13's endpoint branch, kept beside its classes
    "EmbeddingsLocalOnlyError", "ServeAlreadyServingError", "ServeBadFieldError",
    "ServeBadJsonError", "ServeCannotListenError", "ServeError", "ServeMethodNotAllowedError",
    "ServeNeedsAuthError", "ServePortInUseError", "ServeRouteNotFoundError",
    "ServeTokenNotAcceptedError", "ServeTokenRequiredError",
]


# ---- issue 13: RFC 8693 exchange of a third-party app's token ------------------------------
class AuthAppTokenRefusedError(AuthError):
    """The provider refused to exchange a third-party app's access token for one of this
    deployment's (RFC 8693 ``invalid_grant``: revoked, expired or not a user's token)."""


__all__ += ["AuthAppTokenRefusedError"]  # issue 13's token exchange, beside its class


# ---- issue 14: lock files (bodhi.lock) -------------------------------------------------------
class LockError(BodhiError):
    """``lock`` and ``pull --locked``: a lock file that cannot be read or written, or a
    locked file the Hub no longer has as it was."""

    error_type = ErrorType.INVALID_REQUEST


class LockMalformedError(LockError):
    """The lock file is not valid TOML, or a key has the wrong type or form. args: path,
    key, reason"""


class LockUnsupportedVersionError(LockError):
    """args: path, version, supported"""


class LockNotFoundError(LockError):
    """No lock file where one was asked for. args: path"""

    error_type = ErrorType.NOT_FOUND


class LockNothingUsedError(LockError):
    """``lock`` without names in a process that pulled, aliased and chatted with nothing."""


class LockUnknownNameError(LockError):
    """Neither an alias nor a downloaded model. args: name"""

    error_type = ErrorType.NOT_FOUND


class LockApiAliasError(LockError):
    """An API alias cannot be locked (its model lives at the provider). args: name"""


class LockNotDownloadedError(LockError):
    """A name to lock whose file is not in the cache. args: name, repo, filename, revision"""

    error_type = ErrorType.NOT_FOUND


class LockHashMismatchError(LockError):
    """The Hub's (or the downloaded) file differs from the lock's SHA-256 or size; nothing
    was kept for it. args: model, commit, what (``sha256`` | ``size``), where (``hub``: the
    Hub's metadata, checked before any download | ``file``: the downloaded file), expected,
    found"""

    error_type = ErrorType.CONFLICT


class LockCommitNotFoundError(LockError):
    """The locked commit no longer exists on the Hub. args: model, commit"""

    error_type = ErrorType.NOT_FOUND


class LockModelMissingError(LockError):
    """Chat with an alias the lock file pins to a file at a commit that is not in the cache
    (the lock came from another machine). args: alias, model, commit, path"""

    error_type = ErrorType.NOT_FOUND


__all__ += [  # issue 14's lock files, beside their classes
    "LockApiAliasError", "LockCommitNotFoundError", "LockError", "LockHashMismatchError",
    "LockMalformedError", "LockModelMissingError", "LockNotDownloadedError", "LockNotFoundError",
    "LockNothingUsedError", "LockUnknownNameError", "LockUnsupportedVersionError",
]


def all_error_classes() -> list[type[BodhiError]]:
    """Every concrete (leaf) error class, sorted by code."""
    return [_BY_CODE[k] for k in sorted(_BY_CODE)]


def error_class(code: str) -> type[BodhiError] | None:
    """The leaf class whose code is ``code`` (e.g. to rebuild a stored error), or None."""
    return _BY_CODE.get(code)


__all__ += ["error_class"]
