"""Policy presets (SPEC §7, issue 12): each marketplace's seller program as a GradeCraft policy.

A preset is data, not code: one JSON file per program in ``metrics/policy/presets/``, in the
shape ``{"name", "source", "notes", "policy"}`` where ``policy`` is the ``GET /api/v1/policy``
shape (without ``id``). ``source`` names the program's page and the date its rules were
transcribed; ``notes`` say what is approximated or left out. Every preset passes
``validate_policy_data`` (tests/metrics/test_policy_presets.py holds each one to it).

Names come from the files, never from a path the caller gives: a lookup is a dict lookup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from common.errors import NotFound
from metrics.models import GradePolicy
from metrics.policy.services import create_active_policy, create_draft_policy

PRESETS_DIR = Path(__file__).resolve().parent / "presets"
DEFAULT_PRESET = "kmong"  # equal to the policy the data migration seeds (SPEC §5)


class PresetNotFound(NotFound, LookupError):
    """No preset of that name (404)."""


@dataclass(frozen=True)
class Preset:
    name: str
    source: str
    notes: str
    policy: dict[str, Any]  # the GET /api/v1/policy shape, thresholds as JSON numbers

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "notes": self.notes,
            "policy": self.policy,
        }


@lru_cache(maxsize=1)
def _presets() -> dict[str, Preset]:
    presets: dict[str, Preset] = {}
    for path in sorted(PRESETS_DIR.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        preset = Preset(
            name=str(raw["name"]),
            source=str(raw["source"]),
            notes=str(raw["notes"]),
            policy=dict(raw["policy"]),
        )
        if preset.name != path.stem:
            raise ValueError(f"{path.name}: its name must be {path.stem!r}, not {preset.name!r}")
        presets[preset.name] = preset
    # The default first, then by name.
    return dict(sorted(presets.items(), key=lambda item: (item[0] != DEFAULT_PRESET, item[0])))


def preset_names() -> list[str]:
    return list(_presets())


def all_presets() -> list[Preset]:
    return list(_presets().values())


def get_preset(*, name: str) -> Preset:
    preset = _presets().get(name)
    if preset is None:
        raise PresetNotFound(
            f"No preset named {name!r}. Presets: {', '.join(preset_names())}.",
        )
    return preset


def load_preset(
    *,
    name: str,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    activate: bool = True,
) -> GradePolicy:
    """Create a policy from preset ``name``: the new active policy (the previous one is kept,
    inactive), or with ``activate=False`` an inactive draft to edit and preview first."""
    preset = get_preset(name=name)
    if activate:
        return create_active_policy(data=preset.policy, actor=actor)
    return create_draft_policy(data=preset.policy, actor=actor)
