"""The `check` skill's reply: everything from outside escaped, the Re-check button's value round-trips."""

from __future__ import annotations

from typing import Any

import pytest

from worker import skills
from worker.skills import Ask, check
from worker.skills.check.urlcheck import CheckResult


def _result(
    url: str, *, error: str | None = None, final_url: str | None = None, redirects: int = 0
) -> CheckResult:
    return CheckResult(
        url=url,
        ok=error is None,
        status=None if error else 200,
        latency_ms=None if error else 12.0,
        cert_days_left=None,
        final_url=final_url or url,
        error=error,
        redirects=redirects,
    )


def _rendered_texts(reply: Any) -> list[str]:
    return [reply.text] + [block["text"]["text"] for block in reply.blocks if block["type"] == "section"]


def test_urls_redirect_targets_and_errors_are_escaped() -> None:
    reply = check.render(
        [
            _result("https://a.example/<!channel>", final_url="https://a.example/<@U1>&<!here>", redirects=1),
            _result("https://b.example/", error="invalid URL: '<https://evil.example|Slack login>'"),
        ]
    )
    for text in _rendered_texts(reply):
        assert "<" not in text and ">" not in text
    assert (
        "https://a.example/&lt;!channel&gt;: HTTP 200, 12 ms, → https://a.example/&lt;@U1&gt;&amp;&lt;!here&gt;"
        in reply.text
    )
    assert "'&lt;https://evil.example|Slack login&gt;'" in reply.text


def test_the_button_value_holds_whole_urls_only_within_slacks_limit() -> None:
    urls = [f"https://{n}.example/" + "p" * 880 for n in range(3)]
    reply = check.render([_result(url) for url in urls])
    assert reply.blocks is not None
    value = reply.blocks[-1]["elements"][0]["value"]
    assert len(value) <= check.MAX_BUTTON_VALUE
    assert value.split(" ") == urls[:2]


def test_no_button_when_no_url_fits_in_its_value() -> None:
    reply = check.render([_result("https://a.example/" + "p" * 2000)])
    assert reply.blocks is not None
    assert [block["type"] for block in reply.blocks] == ["section", "section"]


def test_the_reply_says_when_urls_were_left_out() -> None:
    reply = check.render([_result(f"https://{n}.example/") for n in range(5)], given=8)
    assert reply.text.startswith(
        "Health check (5/5 healthy; checked the first 5 of 8 URLs, at most 5 per check):\n"
    )


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """What the skill asks the checker to check (no network: every URL comes back healthy)."""
    asked: list[list[str]] = []

    def check_all(urls: list[str], **kwargs: Any) -> list[CheckResult]:
        asked.append(list(urls))
        return [_result(url) for url in urls]

    monkeypatch.setattr(check, "check_all", check_all)
    monkeypatch.delenv("STATE_TABLE", raising=False)
    return asked


def test_a_recheck_takes_the_buttons_urls_as_they_are(checked: list[list[str]]) -> None:
    """No Slack un-escaping on the way back: the value is the bot's own, not a user's message."""
    check.recheck(Ask(text="https://a.example/?q=&lt; <!channel> https://b.example/<x> not-a-url"))
    assert checked == [["https://a.example/?q=&lt;", "https://b.example/<x>"]]


def test_a_message_is_checked_for_its_first_five_urls(checked: list[list[str]]) -> None:
    reply = check.run(Ask(text=" ".join(f"https://{n}.example" for n in range(7))))
    assert checked == [[f"https://{n}.example" for n in range(5)]]
    assert "checked the first 5 of 7 URLs" in reply.text


def test_no_urls_gives_the_usage(checked: list[list[str]]) -> None:
    assert check.run(Ask(text="please")).text == check.USAGE
    assert check.recheck(Ask(text="")).text == check.USAGE
    assert checked == []


def test_the_check_skill_is_a_package_and_is_found_as_one() -> None:
    """Skill discovery finds packages too: ``worker/skills/check/`` holds the skill and its HTTP client."""
    assert hasattr(check, "__path__")  # a package, not a module
    assert skills.find("check") is check.SKILL
    assert check.SKILL.actions == {"recheck": check.recheck}
