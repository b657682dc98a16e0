"""What saving or running a tenant's rules can raise. Both are NotificationErrors (notifications.errors): a bad
rule set is the tenant's input, not the service's configuration."""

from __future__ import annotations

from dataclasses import dataclass

from notifications.errors import NotificationError


class ConditionError(ValueError):
    """A condition that does not compile: what is wrong and where (a 0-based character offset)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position})")
        self.message, self.position = message, position


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad part of a rule set: `where` names it ("rules[2] 'big invoices'.condition"), `position` is the
    character offset in an expression when it is one."""

    where: str
    message: str
    position: int | None = None

    def __str__(self) -> str:
        at = f" (at character {self.position})" if self.position is not None else ""
        return f"{self.where}: {self.message}{at}"


class RulesInvalid(NotificationError):
    """A rule set refused on save; `problems` lists every bad part found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


class VersionConflict(NotificationError):
    """A save that expected another version than the current one (optimistic concurrency)."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"expected_version is {expected} but the current version is {current}: reload and retry",
                         expected=expected, current=current)
        self.expected, self.current = expected, current
