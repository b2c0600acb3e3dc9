"""Routing (轉知) data types: the associations registry, rules, and what routing decides.

The YAML shapes and the task JSON are contracts (docs/routing.md): other tools read them.
Conditions form a small tree (`Match` leaves under `AllOf`/`AnyOf`/`Not`); every node
remembers the line of the YAML file it came from, so a routing report and a config error
can point at it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from schemas.statuses import OPEN_STATUSES as OPEN_STATUSES
from schemas.statuses import TASK_STATUSES as TASK_STATUSES

# what a condition can look at (docs/routing.md#fields)
CONDITION_FIELDS: tuple[str, ...] = (
    "sender", "recipient", "doc_type", "speed", "security", "subject", "explanation", "measures",
    "text", "cc", "references", "attachments", "kind", "sender_tags",
)
MATCH_KINDS: tuple[str, ...] = ("any", "all", "literal", "regex", "fuzzy")
DEFAULT_FUZZY_THRESHOLD = 90

MatchKind = Literal["any", "all", "literal", "regex", "fuzzy"]
TaskStatus = Literal["pending", "claimed", "done", "rejected"]


class AssociationContact(BaseModel):
    email: str | None = None
    fax: str | None = None
    address: str | None = None


class Association(BaseModel):
    """One body letters may be forwarded to; `id` is the stable key tasks refer to."""

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    contact: AssociationContact | None = None


@dataclass(frozen=True)
class Match:
    """A leaf condition: `field` compared with `value` by `match`."""

    field: str
    match: MatchKind
    value: str
    threshold: int = DEFAULT_FUZZY_THRESHOLD
    line: int = 0

    def describe(self) -> str:
        extra = f" ≥{self.threshold}" if self.match == "fuzzy" else ""
        return f"{self.field} {self.match}{extra} {self.value!r}"


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]
    line: int = 0


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]
    line: int = 0


@dataclass(frozen=True)
class Not:
    item: Condition
    line: int = 0


Condition = Match | AllOf | AnyOf | Not


def describe(cond: Condition) -> str:
    """A condition in one line, as a reason prints it."""
    if isinstance(cond, Match):
        return cond.describe()
    if isinstance(cond, Not):
        return f"not ({describe(cond.item)})"
    joiner = " and " if isinstance(cond, AllOf) else " or "
    return "(" + joiner.join(describe(c) for c in cond.items) + ")"


def condition_json(cond: Condition) -> dict[str, Any]:
    """A condition in the YAML's own shape (`{field, match, value}`, `{all: […]}`, `{any: […]}`, `{not: …}`)."""
    if isinstance(cond, Match):
        leaf: dict[str, Any] = {"field": cond.field, "match": cond.match, "value": cond.value}
        return leaf | ({"threshold": cond.threshold} if cond.match == "fuzzy" else {})
    if isinstance(cond, Not):
        return {"not": condition_json(cond.item)}
    return {"all" if isinstance(cond, AllOf) else "any": [condition_json(c) for c in cond.items]}


@dataclass(frozen=True)
class Rule:
    """`when` holds → forward to `to` (ids and `tag:NAME`), minus `except`."""

    name: str
    when: Condition
    to: tuple[str, ...]
    except_: tuple[str, ...] = ()
    priority: int = 0
    group: str | None = None
    line: int = 0


@dataclass(frozen=True)
class RoutingConfig:
    """A validated registry and rule list, with the files they came from."""

    associations: tuple[Association, ...]
    rules: tuple[Rule, ...]
    associations_file: str = ""
    rules_file: str = ""

    def to_json(self) -> dict[str, Any]:
        """The rules and the registry as loaded, in the YAML files' shapes (each rule with its line and condition
        in one line, as the rules page shows it): GET /api/rules."""
        rules = [{"name": r.name, "line": r.line, "when": condition_json(r.when), "condition": describe(r.when),
                  "to": list(r.to), "except": list(r.except_), "priority": r.priority, "group": r.group}
                 for r in self.rules]
        return {"rules_file": self.rules_file, "associations_file": self.associations_file, "rules": rules,
                "associations": [a.model_dump() for a in self.associations]}


# -- what routing decides -----------------------------------------------------


@dataclass
class Target:
    """A task routing wants: association, the rule that asked for it and why."""

    association: str
    rule: str
    reason: str


@dataclass
class Skipped:
    """A target that gets no task, and why (already has the letter, excepted, unknown body)."""

    association: str | None
    rule: str
    why: str


@dataclass
class RuleMatch:
    rule: str
    line: int
    reasons: list[str]
    targets: list[str]


@dataclass
class Decision:
    """What routing decided for one document: tasks to exist, skipped targets, triage or not."""

    document_id: int | None
    doc_number: str | None
    kind: str
    outcome: Literal["routed", "triage", "ignored"]
    due: datetime.date | None
    due_basis: str
    matches: list[RuleMatch] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "doc_number": self.doc_number,
            "kind": self.kind,
            "outcome": self.outcome,
            "due": self.due.isoformat() if self.due else None,
            "due_basis": self.due_basis,
            "rules": [
                {"rule": m.rule, "line": m.line, "reasons": m.reasons, "targets": m.targets} for m in self.matches
            ],
            "targets": [{"association": t.association, "rule": t.rule, "reason": t.reason} for t in self.targets],
            "skipped": [{"association": s.association, "rule": s.rule, "why": s.why} for s in self.skipped],
            "warnings": self.warnings,
        }


@dataclass
class RoutingInput:
    """What routing reads of one document (stored or just extracted), printed as the letter prints it."""

    document_id: int | None
    kind: str
    ingested: datetime.date
    doc_number: str | None = None
    sender: str | None = None
    recipient: str | None = None
    doc_type: str | None = None
    speed: str | None = None
    security: str | None = None
    subject: str | None = None
    explanation: list[str] = field(default_factory=list)  # item texts, top to bottom
    measures: list[str] = field(default_factory=list)
    attachments: str | None = None
    cc_main: list[str] = field(default_factory=list)
    cc_copy: list[str] = field(default_factory=list)
    addressees: list[str] = field(default_factory=list)  # 出席者/列席者 and other parties that get the letter
    references: list[str] = field(default_factory=list)
    distribution: list[str] = field(default_factory=list)  # a form's 編送對象
    form_due: str | None = None  # a form's period rule (每年終了1個月內編報)
    title: str | None = None
    deadline: datetime.date | None = None
    received: datetime.date | None = None
    version_of: int | None = None  # another version of a stored letter (a corrected re-issue, a scan's original)
