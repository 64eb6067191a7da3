"""`help`: every skill with its one-line help."""

from __future__ import annotations

from worker.skills import Ask, Reply, Skill, all_skills


def run(ask: Ask) -> Reply:
    lines = [f"• `{skill.name}`: {skill.help}" for skill in all_skills().values()]
    text = "Here is what I can do:\n" + "\n".join(lines)
    return Reply(text=text)


SKILL = Skill(name="help", help="list what I can do", run=run)
