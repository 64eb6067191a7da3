"""The stand-in's HTTP server: Slack's Web API, ``response_url`` posts, and the ``/sandbox/...`` control API.

Routes (all on one loopback port):

- ``/api/<method>`` (GET, POST; form or JSON): the Web API methods of ``methods_*.py``, after the
  token check, the added latency and any injected fault;
- ``/response/<id>`` (POST): a ``response_url`` minted by ``new_response_url``;
- ``/sandbox/...``: the control API, for a stand-in in another process: ``GET messages[?since=SEQ]``,
  ``GET``/``POST channels``, ``POST faults``, ``POST reset``, ``POST response_url`` (mint one, or
  ``{"expire": url}``), ``POST trigger_id``;
- ``GET /sandbox/slow?ms=N&status=S``: a target that answers late, for the ``check`` skill and the
  benchmarks.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.serving import BackgroundServer, LoopbackServer, QuietHandler
from sandbox.slack_standin import methods_chat, methods_people, methods_views
from sandbox.slack_standin.faults import FaultInjection, check_status
from sandbox.slack_standin.wire import ApiError, Record, Reply, decoded, json_reply, text_reply
from sandbox.slack_standin.workspace import Workspace

__all__ = ["SlackStandIn"]

_WEB_API: dict[str, Callable[[Workspace, dict[str, Any]], dict[str, Any]]] = {
    **methods_chat.METHODS,
    **methods_people.METHODS,
    **methods_views.METHODS,
}
_JSON_FORM_FIELDS = ("blocks", "attachments", "metadata")
_MAX_BODY = 10 * 1024 * 1024


class SlackStandIn(Workspace, FaultInjection, BackgroundServer):
    """The Slack Web API and ``response_url`` endpoints, served from a daemon thread on loopback.

    The socket is bound in the constructor (``port=0`` picks a free port), so ``port`` and the URLs are
    known before ``start()``. A stopped stand-in cannot be started again. ``start()``, ``stop()`` and
    ``with`` come from ``BackgroundServer``; the records, people and views from ``Workspace``; the
    faults from ``FaultInjection``.
    """

    thread_name = "slack-standin"
    poll_interval = 0.02

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        valid_tokens: set[str] | None = None,
        on_record: Callable[[Record], None] | None = None,
    ) -> None:
        Workspace.__init__(self, valid_tokens=valid_tokens, on_record=on_record)
        FaultInjection.__init__(self)
        BackgroundServer.__init__(self, host, port, _Handler)

    # -- addresses ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/``."""
        return self.url + "/"

    @property
    def api_url(self) -> str:
        """What ``WebClient(base_url=...)`` gets: ``base_url + "api/"``."""
        return self.base_url + "api/"

    def new_response_url(self) -> str:
        """Mint a ``response_url`` that accepts 5 posts within 30 minutes, like Slack's."""
        return f"{self.base_url}response/{self.mint_response_id()}"

    def expire_response_url(self, url: str) -> None:
        """Make a minted ``response_url`` answer ``expired_url`` from now on, as if its 30 minutes were up."""
        response_id = urlsplit(url).path.removeprefix("/response/").strip("/")
        if not self.expire_response_id(response_id):
            raise ValueError(f"not a response_url of this stand-in: {url}")

    def reset(self) -> None:
        """Forget the records and every fault (injected faults, channel errors, delay).

        Sequence numbers keep counting so that ``?since=`` pollers never miss a record; minted
        response URLs and posted messages stay valid.
        """
        self.clear_faults()
        self.delay_seconds = 0.0
        Workspace.reset(self)

    # -- what the handler threads call ------------------------------------------------------------

    def answer_api(self, method: str, args: dict[str, Any], token: str | None) -> Reply:
        handler = _WEB_API.get(method)
        if handler is None:
            return json_reply({"ok": False, "error": "unknown_method"}, status=404)
        try:
            self.check_token(token)
            return json_reply({"ok": True, **handler(self, args)})
        except ApiError as e:
            return json_reply(e.payload(), status=e.status)

    # -- control API -------------------------------------------------------------------------------

    def answer_control(self, verb: str, name: str, query: dict[str, str], body: Any) -> Reply:
        if verb == "GET" and name == "messages":
            since = int(query.get("since", "0") or 0)
            return json_reply({"ok": True, "messages": [r for r in self.calls() if r["seq"] > since]})
        if verb == "GET" and name == "channels":
            return json_reply(
                {
                    "ok": True,
                    "missing": sorted(self.missing_channels),
                    "not_in": sorted(self.not_in_channels),
                    "users_not_in": sorted(self.users_not_in_channels),
                }
            )
        if verb == "POST" and name == "reset":
            self.reset()
            return json_reply({"ok": True})
        if verb == "POST" and name == "response_url":
            if isinstance(body, dict) and isinstance(body.get("expire"), str):
                self.expire_response_url(body["expire"])  # ValueError: 400 invalid_argument
                return json_reply({"ok": True})
            return json_reply({"ok": True, "response_url": self.new_response_url()})
        if verb == "POST" and name == "trigger_id":
            return json_reply({"ok": True, "trigger_id": self.new_trigger_id()})
        if verb == "POST" and name in ("faults", "channels"):
            if not isinstance(body, dict):
                raise ApiError("invalid_json", 400)
            if name == "faults":
                self.configure_faults(body)
            else:
                if "missing" in body:
                    self.missing_channels = set(_str_list(body["missing"]))
                if "not_in" in body:
                    self.not_in_channels = set(_str_list(body["not_in"]))
                if "users_not_in" in body:
                    self.users_not_in_channels = set(_str_list(body["users_not_in"]))
            return json_reply({"ok": True})
        raise ApiError("unknown_control", 404)


def _str_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError("invalid_channels", 400)
    return list(value)


def _decode_form(raw: str) -> dict[str, Any]:
    args: dict[str, Any] = dict(parse_qsl(raw, keep_blank_values=True))
    for key in _JSON_FORM_FIELDS:
        value = args.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args


# -- HTTP plumbing ---------------------------------------------------------------------------------


class _Handler(QuietHandler):
    server_version = "SlackStandIn/1.0"
    server: LoopbackServer[SlackStandIn]

    # -- verbs -------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, verb: str) -> None:
        standin = self.server.owner
        parts = urlsplit(self.path)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            raw = self._read_body()
        except ValueError as e:
            self._send(text_reply(str(e), 400, ok=False))
            return
        if path.startswith("/api/") and verb in ("GET", "POST"):
            self._api(standin, path, query, raw)
        elif path.startswith("/response/") and verb == "POST":
            self._response_url(standin, path, raw)
        elif path == "/sandbox/slow" and verb == "GET":
            self._slow(query)
        elif path.startswith("/sandbox/") and verb in ("GET", "POST"):
            body: Any = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
            try:
                reply = standin.answer_control(verb, path.removeprefix("/sandbox/").strip("/"), query, body)
            except ApiError as e:
                reply = json_reply({"ok": False, "error": e.error}, status=e.status)
            except ValueError as e:
                reply = json_reply({"ok": False, "error": f"invalid_argument: {e}"}, status=400)
            self._send(reply)
        elif path.startswith(("/api/", "/response/", "/sandbox/")):
            self._send(text_reply("method_not_allowed", 405, ok=False))
        else:
            self._send(text_reply("not_found", 404, ok=False))

    # -- endpoints ---------------------------------------------------------------------------------

    def _api(self, standin: SlackStandIn, path: str, query: dict[str, str], raw: bytes) -> None:
        method = path.removeprefix("/api/").strip("/")
        args: dict[str, Any] = dict(query)
        reply: Reply | None = None
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if raw:
            if content_type == "application/json":
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                if isinstance(body, dict):
                    args.update(body)
                else:
                    reply = json_reply({"ok": False, "error": "invalid_json"})
            elif content_type in ("application/x-www-form-urlencoded", ""):
                args.update(_decode_form(raw.decode("utf-8", "replace")))
            else:
                reply = json_reply({"ok": False, "error": "invalid_form_data"})
        token = _bearer(self.headers.get("Authorization")) or _str_or_none(args.pop("token", None))
        if standin.delay_seconds > 0:
            time.sleep(standin.delay_seconds)
        if reply is None:
            reply = standin.take_fault(method)
        if reply is None:
            reply = standin.answer_api(method, args, token)
        self._finish("api", method, path, args, reply)

    def _response_url(self, standin: SlackStandIn, path: str, raw: bytes) -> None:
        response_id = path.removeprefix("/response/").strip("/")
        body: Any
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if body is None and raw:
            form = _decode_form(raw.decode("utf-8", "replace"))
            payload = form.get("payload")
            if isinstance(payload, str):
                try:
                    body = json.loads(payload)
                except ValueError:
                    body = None
        args = dict(body) if isinstance(body, dict) else {}
        reply = standin.take_fault("response_url") or methods_chat.post_to_response_url(
            standin, response_id, body
        )
        self._finish("response_url", None, path, args, reply)

    def _slow(self, query: dict[str, str]) -> None:
        try:
            ms = min(max(int(query.get("ms", "0") or 0), 0), 120_000)
            status = int(query.get("status", "200") or 200)
            check_status(status)
        except ValueError as e:
            self._send(text_reply(f"bad query: {e}", 400, ok=False))
            return
        if ms:
            time.sleep(ms / 1000)
        self._send(text_reply(f"slow {ms} ms", status, ok=status < 400))

    # -- I/O ---------------------------------------------------------------------------------------

    def _finish(self, kind: str, method: str | None, path: str, args: dict[str, Any], reply: Reply) -> None:
        record: Record = {
            "seq": 0,
            "kind": kind,
            "method": method,
            "path": path,
            "args": args,
            "status": reply.status,
            "ok": reply.ok,
            "error": reply.error,
            "at": time.time(),
            "response": decoded(reply),
        }
        # Record before answering: once the client has its answer, the record is visible.
        self.server.owner.record(record)
        self._send(reply)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self.read_chunked(_MAX_BODY)  # over the limit: ValueError("body too large")
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > _MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
