"""Toloka skills: list, find-or-create by name, update, and set or remove a Toloker's value.

Skills are how Toloka remembers what a Toloker is good at; specs name them (filters, dynamic
pricing, rules), and ``resolve_skill`` turns a name into the id Toloka wants. There is no way to
delete a skill in Toloka's API, so there is no method for it here either.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from annotate_core.errors import MalformedResponseError
from annotate_toloka.api import TolokaApi
from annotate_toloka.wire import BACKEND

log = logging.getLogger(__name__)


class SkillsMixin:
    """Skill methods of ``TolokaBackend`` (they need only ``self.api``)."""

    @property
    def api(self) -> TolokaApi:
        """The REST client; ``TolokaBackend.api`` provides it."""
        raise NotImplementedError

    def list_skills(self, name: str | None = None) -> list[dict[str, Any]]:
        """Skills of the requester (all pages), optionally only those with this exact name."""
        return [s for s in self.api.iter_skills(name) if name is None or s.get("name") == name]

    def create_skill(self, name: str, *, description: str | None = None, hidden: bool = True,
                     private_comment: str | None = None, resolving: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "hidden": hidden}
        if description:
            body["public_requester_description"] = {"EN": description}
        if private_comment:
            body["private_comment"] = private_comment
        # a skill is found by its name: when that is all a job asks for, a create whose outcome is
        # unknown is looked up by name before it is sent again
        return self.api.create_skill(body, find=(lambda: self._live_skill(name)) if resolving else None)

    def _live_skill(self, name: str) -> dict[str, Any] | None:
        found = [s for s in self.list_skills(name) if not s.get("deprecated")]
        return found[0] if found else None

    def resolve_skill(self, name: str) -> str:
        """The id of the skill called ``name``: an existing one, else a new hidden skill."""
        found = self._live_skill(name)
        if found is not None:
            return str(object_id(found, "skill"))
        skill = self.create_skill(name, resolving=True)
        log.info("created Toloka skill %r (%s)", name, skill.get("id"))
        return str(object_id(skill, "skill"))

    def update_skill(self, skill_id: str, **changes: Any) -> dict[str, Any]:
        """Change a skill (``PUT`` of its editable fields only, unlike toloka-kit's full echo)."""
        editable = ("name", "private_comment", "hidden", "skill_ttl_hours", "training", "public_name",
                    "public_requester_description")
        unknown = sorted(set(changes) - set(editable))
        if unknown:
            raise ValueError(f"update_skill: cannot change {unknown}; editable fields are {list(editable)}")
        current = self.api.get_skill(skill_id)
        body = {k: current[k] for k in editable if current.get(k) is not None}
        body.update(changes)
        return self.api.update_skill(skill_id, body)

    def set_user_skill(self, skill_id: str, user_id: str, value: float, *, reason: str | None = None
                       ) -> dict[str, Any]:
        """Set a Toloker's skill value (0-100)."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            raise ValueError(f"value: expected a number from 0 to 100, got {value!r}")
        body: dict[str, Any] = {"skill_id": str(skill_id), "user_id": user_id, "value": value}
        if reason:
            body["reason"] = reason
        return self.api.set_user_skill(body)

    def delete_user_skill(self, user_skill_id: str) -> None:
        self.api.delete_user_skill(user_skill_id)


def object_id(obj: Mapping[str, Any], what: str) -> Any:
    if not obj.get("id"):
        raise MalformedResponseError(f"{what}: created object has no 'id'", backend=BACKEND)
    return obj["id"]
