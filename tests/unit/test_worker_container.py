"""What a container keeps (worker/container.py): built once, built again only in another environment."""

from __future__ import annotations

import pytest

from worker.container import PerContainer


def test_a_value_is_built_once_per_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[str] = []

    def build() -> str:
        builds.append("built")
        return f"queue {len(builds)}"

    kept = PerContainer(build)
    monkeypatch.setenv("QUEUE_URL", "https://queue/a")
    assert kept.get() == kept.get() == "queue 1"
    monkeypatch.setenv("QUEUE_URL", "https://queue/b")  # another test's queue: another container
    assert kept.get() == "queue 2" and len(builds) == 2
    kept.forget()
    assert kept.get() == "queue 3"


def test_a_failed_build_keeps_nothing() -> None:
    attempts: list[int] = []

    def build() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("Secrets Manager is down")
        return 42

    kept = PerContainer(build)
    with pytest.raises(RuntimeError):
        kept.get()
    assert kept.get() == 42
