"""The sandbox's ``CHECK_ALLOW_PRIVATE_NETWORKS`` for each mode (``sandbox.stack.private_networks``).

Connected to real Slack, anyone in the workspace can ask the bot to `check` a URL: private networks
(this machine, moto's ``/moto-api/``, the LAN) are refused unless the developer opted in themselves.
"""

from __future__ import annotations

import pytest

from sandbox.stack import private_networks


def test_the_stand_in_allows_private_networks_by_default() -> None:
    chosen = private_networks(real_slack=False, environ={})
    assert chosen.allowed and chosen.env() == {"CHECK_ALLOW_PRIVATE_NETWORKS": "true"}
    assert "only you" in chosen.why


def test_real_slack_refuses_private_networks_by_default() -> None:
    chosen = private_networks(
        real_slack=True, environ={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    )
    assert not chosen.allowed and chosen.env() == {"CHECK_ALLOW_PRIVATE_NETWORKS": "false"}
    assert "anyone in the workspace" in chosen.why and "CHECK_ALLOW_PRIVATE_NETWORKS=true" in chosen.why


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes"])
def test_real_slack_allows_them_when_the_developer_opts_in_and_the_banner_warns(value: str) -> None:
    chosen = private_networks(real_slack=True, environ={"CHECK_ALLOW_PRIVATE_NETWORKS": value})
    assert chosen.allowed and chosen.env() == {"CHECK_ALLOW_PRIVATE_NETWORKS": "true"}
    assert "set by you" in chosen.why and "anyone in the workspace" in chosen.why


@pytest.mark.parametrize("real_slack", [True, False])
def test_a_developer_who_says_false_gets_false_in_either_mode(real_slack: bool) -> None:
    chosen = private_networks(real_slack=real_slack, environ={"CHECK_ALLOW_PRIVATE_NETWORKS": "false"})
    assert not chosen.allowed and chosen.env() == {"CHECK_ALLOW_PRIVATE_NETWORKS": "false"}
    assert "set by you" in chosen.why


def test_an_empty_value_is_no_opt_in() -> None:
    assert not private_networks(real_slack=True, environ={"CHECK_ALLOW_PRIVATE_NETWORKS": "  "}).allowed
