"""Exit codes of the SRE commands, and AWS's exceptions turned into one clear line each."""

from __future__ import annotations

from enum import IntEnum

from botocore import exceptions as boto

EXIT_CODES_HELP = """\
exit codes:
  0  done
  1  nothing to do or nothing done: an ID not in the dead-letter queue, an empty queue to redrive,
     a declined confirmation; for `say`: the event was dead-lettered or ignored, no reply came in
     time, the ingest refused a submission with field errors, a shortcut opened no modal or the
     Home tab was not published
  2  usage or configuration error: an id prefix that fits several dead letters, a missing
     QUEUE_URL, DLQ_URL or STATE_TABLE, a stack without its outputs, a queue, table or stack that
     does not exist; for `say`: no sandbox answers, --submit for a modal the bot has not opened or
     with a --field it has no input for, --shortcut/--submit/--home against real Slack
  3  AWS unreachable or refusing: no connection, a timeout, missing, invalid or expired credentials,
     access denied
"""

NO_SUCH_QUEUE = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "InvalidAddress"})
NO_SUCH_RESOURCE = frozenset({"ResourceNotFoundException"})
CREDENTIAL_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "InvalidSecurity",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "AuthFailure",
        "AccessDenied",
        "AccessDeniedException",
    }
)


class ExitCode(IntEnum):
    OK = 0
    NOTHING = 1  # nothing to do, nothing done, or not found
    USAGE = 2  # usage or configuration
    AWS = 3  # AWS unreachable, or refusing our credentials


class OpsError(Exception):
    """A failure the user can act on: printed as one line, its code is the process's exit code."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


def error_code(error: boto.ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_credential_problem(error: BaseException) -> bool:
    if isinstance(error, boto.ClientError):
        return error_code(error) in CREDENTIAL_CODES
    return isinstance(error, _CREDENTIAL_ERRORS)


def from_aws(error: boto.BotoCoreError | boto.ClientError) -> OpsError:
    """The one line and the exit code for an exception botocore raised."""
    if isinstance(error, boto.ClientError):
        return _from_client_error(error)
    if isinstance(error, boto.ConnectionError | boto.HTTPClientError):
        return OpsError(f"cannot reach AWS: {error}", ExitCode.AWS)
    if isinstance(error, _CREDENTIAL_ERRORS):
        return OpsError(f"no usable AWS credentials: {error}", ExitCode.AWS)
    if isinstance(error, boto.NoRegionError):
        return OpsError(
            "no AWS region: set AWS_REGION or AWS_DEFAULT_REGION, or use a profile with one", ExitCode.USAGE
        )
    return OpsError(f"AWS configuration: {error}", ExitCode.USAGE)


def _from_client_error(error: boto.ClientError) -> OpsError:
    code = error_code(error)
    message = _first_line(str(error.response.get("Error", {}).get("Message", "")))
    operation = getattr(error, "operation_name", "")
    if code in NO_SUCH_QUEUE:
        return OpsError(f"no such queue ({code}): check QUEUE_URL and DLQ_URL, or --stack", ExitCode.USAGE)
    if code in NO_SUCH_RESOURCE:
        return OpsError(f"not found ({code}): {message}", ExitCode.USAGE)
    if code in CREDENTIAL_CODES:
        return OpsError(f"AWS refused the credentials in use ({code}): {message}", ExitCode.AWS)
    return OpsError(f"AWS error {code} in {operation}: {message}", ExitCode.AWS)


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


_CREDENTIAL_ERRORS = (
    boto.NoCredentialsError,
    boto.PartialCredentialsError,
    boto.CredentialRetrievalError,
    boto.TokenRetrievalError,
    boto.SSOError,
)
