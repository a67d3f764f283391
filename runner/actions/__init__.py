"""Step types. See `runner.actions.registry` for how families register."""

from runner.actions.registry import ActionOutput, ActionSpec, action

__all__ = ["ActionOutput", "ActionSpec", "action"]
