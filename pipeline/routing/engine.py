"""One document in, one routing decision out: which associations get a forwarding task and why.

Rules are tried in file order and every rule that holds adds its targets (docs/routing.md#rules).
Two refinements the contract leaves to the file: rules sharing a `group` are alternatives
(only the best of them applies: highest `priority`, then the earliest), and when several
rules ask for the same association the task carries the best rule's name and reason.
A target that already has the letter (its 受文者, 正本, 副本 or a meeting's addressees, by
name or alias) or that sent it gets no task, and the decision says so. A form's 編送對象
makes one submission task per registered body. A letter or form that nothing routes goes
to triage; an `other` document (a brochure, an attachment) that nothing routes is ignored, and
so is a second version of a stored letter (its tasks are the first version's).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from pipeline.matching import item_texts
from pipeline.routing.due import WorkCalendar, form_due, letter_due
from pipeline.routing.match import Facts, RegexGuard, Registry, Test, compile_condition
from schemas.letter import Document
from schemas.routing import Decision, RoutingConfig, RoutingInput, Rule, RuleMatch, Skipped, Target

FORM_RULE = "form-distribution"
_ROLE_NAMES = {"recipient": "受文者", "cc_main": "正本", "cc_copy": "副本", "addressee": "出席/列席"}


@dataclass
class _Compiled:
    rule: Rule
    test: Test
    to: list[str]
    except_: set[str]


def routing_input(doc: Document, document_id: int | None, ingested: datetime.date) -> RoutingInput:
    """What routing reads of an extracted (or re-loaded) `Document`."""
    return RoutingInput(
        document_id=document_id,
        kind=doc.kind,
        ingested=ingested,
        doc_number=doc.doc_number or doc.form_number,
        sender=doc.sender,
        recipient=doc.recipient,
        doc_type=doc.doc_type,
        speed=doc.speed,
        security=doc.security,
        subject=doc.subject,
        explanation=list(item_texts(doc.explanation)),
        measures=list(item_texts(doc.measures)),
        attachments=doc.attachments,
        cc_main=list(doc.cc_main or ()),
        cc_copy=list(doc.cc_copy or ()),
        addressees=[*(doc.attendees or ()), *(doc.observers or ())],
        references=list(doc.references),
        distribution=list(doc.distribution or ()),
        form_due=doc.due,
        title=doc.title,
        deadline=doc.deadline,
        received=doc.received.date if doc.received else None,
    )


class Router:
    """The compiled rules and registry; `route` is pure (reads nothing, writes nothing)."""

    def __init__(self, config: RoutingConfig, work: WorkCalendar | None = None) -> None:
        self.config = config
        self.registry = Registry(config.associations)
        self.guard = RegexGuard()
        self.work = work or WorkCalendar.official()
        self.rules = [
            _Compiled(r, compile_condition(r.when, self.registry, self.guard),
                      self.registry.expand(r.to), set(self.registry.expand(r.except_)))
            for r in config.rules
        ]

    def facts(self, doc: RoutingInput) -> Facts:
        return Facts.of({
            "sender": doc.sender,
            "recipient": doc.recipient,
            "doc_type": doc.doc_type,
            "speed": doc.speed,
            "security": doc.security,
            "subject": doc.subject or doc.title,
            "explanation": doc.explanation,
            "measures": doc.measures,
            "attachments": doc.attachments,
            "text": [x for x in (doc.subject or doc.title, *doc.explanation, *doc.measures, doc.attachments) if x],
            "cc": [*doc.cc_main, *doc.cc_copy],
            "references": doc.references,
            "kind": doc.kind,
            "sender_tags": self.registry.tags_of(doc.sender),
        })

    def _holders(self, doc: RoutingInput) -> dict[str, str]:
        """Associations that already have the letter → why (role and the name as printed)."""
        out: dict[str, str] = {}
        named = [("recipient", doc.recipient), *(("cc_main", n) for n in doc.cc_main),
                 *(("cc_copy", n) for n in doc.cc_copy), *(("addressee", n) for n in doc.addressees)]
        for role, name in named:
            ident = self.registry.resolve(name)
            if ident is not None and ident not in out:
                out[ident] = f"already has the letter: {_ROLE_NAMES[role]} {name}"
        sender = self.registry.resolve(doc.sender)
        if sender is not None:
            out[sender] = f"is the sender ({doc.sender})"
        return out

    def due(self, doc: RoutingInput) -> tuple[datetime.date | None, str]:
        if doc.kind == "form":
            base = doc.received or doc.ingested
            due = form_due(doc.form_due, base, self.work)
            if due is not None:
                return due, f"period rule {doc.form_due!r} from {base.isoformat()}"
            if doc.deadline is None:
                return None, f"no period rule that gongwen can read ({doc.form_due!r})"
        return letter_due(doc.deadline, doc.speed, doc.received, doc.ingested, self.work)

    def route(self, doc: RoutingInput) -> Decision:
        if doc.version_of is not None:  # the letter was routed as its first version: no second set of tasks
            return Decision(doc.document_id, doc.doc_number, doc.kind, "ignored", None,
                            f"a version of document #{doc.version_of}: routed with it")
        warnings_before = len(self.guard.warnings)
        facts = self.facts(doc)
        held: list[tuple[_Compiled, tuple[str, ...]]] = []
        for compiled in self.rules:
            hit = compiled.test(facts)
            if hit is not None:
                held.append((compiled, hit))
        # a group's alternatives: only its best rule applies
        best_in_group: dict[str, _Compiled] = {}
        for compiled, _ in sorted(held, key=lambda h: (-h[0].rule.priority, h[0].rule.line)):
            if compiled.rule.group is not None:
                best_in_group.setdefault(compiled.rule.group, compiled)
        applied = [(c, hit) for c, hit in held if c.rule.group is None or best_in_group[c.rule.group] is c]

        due, basis = self.due(doc)
        decision = Decision(doc.document_id, doc.doc_number, doc.kind, "routed", due, basis)
        holders = self._holders(doc)
        wanted: dict[str, Target] = {}
        for compiled, hit in sorted(applied, key=lambda h: (-h[0].rule.priority, h[0].rule.line)):
            rule = compiled.rule
            targets = [t for t in compiled.to if t not in compiled.except_]
            decision.matches.append(RuleMatch(rule.name, rule.line, list(hit), targets))
            for ident in compiled.to:
                if ident in compiled.except_:
                    decision.skipped.append(Skipped(ident, rule.name, "excepted by the rule"))
                elif ident in holders:
                    decision.skipped.append(Skipped(ident, rule.name, holders[ident]))
                elif ident not in wanted:
                    wanted[ident] = Target(ident, rule.name, f"rule {rule.name!r}: " + "; ".join(hit))
        if doc.kind == "form":
            for name in doc.distribution:
                body = self.registry.resolve(name)
                if body is None:
                    decision.skipped.append(Skipped(None, FORM_RULE, f"{name!r} is not in the associations registry"))
                elif body in holders:
                    decision.skipped.append(Skipped(body, FORM_RULE, holders[body]))
                elif body not in wanted:
                    wanted[body] = Target(body, FORM_RULE, f"編送對象 of form {doc.doc_number or doc.title or ''}: {name}")
        decision.targets = list(wanted.values())
        if not applied and not wanted:
            decision.outcome = "triage" if doc.kind in ("letter", "form") else "ignored"
        decision.warnings = self.guard.warnings[warnings_before:]
        return decision
