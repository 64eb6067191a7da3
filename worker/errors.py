"""How a record can fail, and what each kind of failure means for it.

``Transient``: worth another try later (Slack 5xx, 429 that does not fit in the time left, timeouts,
DynamoDB unavailable). The claim is released and SQS delivers the record again; after 5 receives SQS
moves it to the dead-letter queue.

``Permanent``: Slack refused for good (``channel_not_found``, ``invalid_auth`` …). Retrying five times
would only delay the alarm: the record goes to the dead-letter queue at once, with its reason.

``Poison``: the record cannot even be read. Dead-lettered at once, body intact.
"""

from __future__ import annotations


class RecordFailure(Exception):
    category = "failure"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Transient(RecordFailure):
    category = "transient"

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after  # Slack's Retry-After, when it asked for patience


class Permanent(RecordFailure):
    category = "permanent"


class ResponseUrlGone(Permanent):
    """Slack no longer takes posts to this ``response_url`` (``expired_url``, ``used_url``, HTTP 404/410).

    Not the end of the record: ``worker.replies`` answers the same person another way. Only when that
    fails too does the record reach the dead-letter queue.
    """


class Poison(RecordFailure):
    category = "poison"


# Slack errors that no retry can fix: the token, the channel or the payload must change first.
PERMANENT_SLACK_ERRORS = frozenset(
    {
        "account_inactive",
        "channel_not_found",
        "invalid_auth",
        "is_archived",
        "missing_scope",
        "no_permission",
        "not_authed",
        "not_in_channel",
        "org_login_required",
        "restricted_action",
        "team_access_not_granted",
        "token_expired",
        "token_revoked",
        "user_not_found",
        "user_not_in_channel",  # chat.postEphemeral: the user is not a member of the channel
        "user_disabled",  # conversations.open
        "user_not_visible",
        "cannot_dm_bot",
        "not_found",  # views.publish: no such user (views.update: no such view)
        "not_enabled",  # views.publish: the app's Home tab is turned off
        "invalid_blocks",
        "invalid_arguments",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "too_many_attachments",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        # views.open / views.push: a trigger_id opens one view within 3 s of the click; a retry is later still
        "expired_trigger_id",
        "invalid_trigger_id",
        "exchanged_trigger_id",
        # response_url answers
        "expired_url",
        "used_url",
        "no_service",
        "invalid_payload",
        "channel_is_archived",
    }
)
