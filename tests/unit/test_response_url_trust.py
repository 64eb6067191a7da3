"""``worker.slack.trusted_response_url``: only Slack's hooks origin, or a non-Slack ``SLACK_API_URL``'s."""

from __future__ import annotations

import pytest

from worker.slack import trusted_response_url

HOOK = "https://hooks.slack.com/commands/T0001/123456/abcdefABCDEF"


@pytest.fixture(autouse=True)
def slack_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_API_URL", raising=False)


@pytest.mark.parametrize(
    "url",
    [
        HOOK,
        "https://hooks.slack.com/actions/T0001/1/xyz",
        "https://HOOKS.Slack.COM/commands/T0001/1/xyz",  # host names are case-insensitive: the same host
        "HTTPS://hooks.slack.com/commands/T0001/1/xyz",
        "https://hooks.slack.com:443/commands/T0001/1/xyz",  # the default port, spelt out
    ],
)
def test_slacks_hooks_origin_is_trusted(url: str) -> None:
    assert trusted_response_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com@evil.example/commands/x",  # userinfo: the host is evil.example
        "https://hooks.slack.com:pw@evil.example/x",
        "https://evil.example@hooks.slack.com/x",  # userinfo on the right host: still not what Slack sends
        "https://hooks.slack.com\\@evil.example/x",
        "https://hooks.slack.com\\.evil.example/x",
        "https://hooks.slack.com.evil.example/x",
        "https://evil.example/hooks.slack.com/x",
        "https://evilhooks.slack.com/x",
        "https://hooks.slack.com./x",  # trailing dot: another name as far as TLS and we are concerned
        "https://hooks.slack.com:8443/x",
        "https://hooks.slack.com:80/x",
        "https://hooks.slack.com:99999/x",  # not a port at all
        "http://hooks.slack.com/x",  # plain HTTP
        "ftp://hooks.slack.com/x",
        "file:///etc/passwd",
        "https://hooks.slаck.com/x",  # Cyrillic а
        "https://xn--hooks.slck-8yg.com/x",  # a punycode look-alike
        "https://hooks.slack.com\u3002/x",  # ideographic full stop
        "https://slack.com/api/chat.postMessage",  # Slack, but not where replies to response_urls go
        "https://127.0.0.1/x",
        "http://169.254.169.254/latest/meta-data/",
        " https://hooks.slack.com/x",  # whitespace and controls: parsers disagree about them
        "https://hooks.slack.com/x\r\nHost: evil.example",
        "https://hooks.sl\tack.com/x",
        "https:hooks.slack.com/x",
        "https:///hooks.slack.com/x",
        "//hooks.slack.com/x",
        "",
        "not a url",
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    assert not trusted_response_url(url)


def test_a_local_stand_in_adds_exactly_its_own_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:8123/api/")
    assert trusted_response_url("http://127.0.0.1:8123/response/abc")
    assert trusted_response_url(HOOK)  # Slack's own hooks stay trusted
    assert not trusted_response_url("http://127.0.0.1:8124/response/abc")  # another port
    assert not trusted_response_url("https://127.0.0.1:8123/response/abc")  # another scheme
    assert not trusted_response_url("http://localhost:8123/response/abc")  # another host name
    assert not trusted_response_url("http://user@127.0.0.1:8123/response/abc")


@pytest.mark.parametrize("api_url", ["https://slack.com/api/", "https://slack.com/api", ""])
def test_slacks_own_api_url_adds_nothing(monkeypatch: pytest.MonkeyPatch, api_url: str) -> None:
    monkeypatch.setenv("SLACK_API_URL", api_url)
    assert not trusted_response_url("https://slack.com/anything")
    assert trusted_response_url(HOOK)
