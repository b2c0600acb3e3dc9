"""Load and validate `associations.yaml` and `rules.yaml` (docs/routing.md).

Clerks edit these files by hand, so every mistake is reported as one line naming the file,
the line and what is wrong (an unknown field, an unknown association in `to`, a regex that
does not compile), never as a traceback. The YAML is composed into nodes first so that each
value keeps its line; validation is written out by hand because the messages matter more
than the brevity a schema library would give.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regex
import yaml

from pipeline.errors import CommandError
from pipeline.matching import match_form
from pipeline.routing.match import fold_pattern
from schemas.routing import (
    CONDITION_FIELDS,
    DEFAULT_FUZZY_THRESHOLD,
    MATCH_KINDS,
    AllOf,
    AnyOf,
    Association,
    AssociationContact,
    Condition,
    Match,
    MatchKind,
    Not,
    RoutingConfig,
    Rule,
)

DEFAULT_CONFIG_DIR = "config"
ASSOCIATION_KEYS = ("id", "name", "aliases", "tags", "contact")
CONTACT_KEYS = ("email", "fax", "address")
RULE_KEYS = ("name", "when", "to", "except", "priority", "group")
LEAF_KEYS = ("field", "match", "value", "threshold")
TAG_PREFIX = "tag:"


class ConfigError(CommandError):
    """A routing file that cannot be used: `file:line: what is wrong` (a usage error, found before anything is written)."""

    exit_code = 2
    note = "nothing was written"

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file, self.line, self.message = file, line, message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")


def config_dir() -> Path:
    return Path(os.environ.get("GONGWEN_CONFIG_DIR") or DEFAULT_CONFIG_DIR)


def default_paths(rules: str | Path | None = None, associations: str | Path | None = None) -> tuple[Path, Path]:
    base = config_dir()
    return (Path(rules) if rules else base / "rules.yaml", Path(associations) if associations else base / "associations.yaml")


@dataclass
class _Doc:
    """One YAML file being validated: its name for messages."""

    file: str

    def fail(self, node: yaml.Node | None, message: str) -> ConfigError:
        return ConfigError(self.file, node.start_mark.line + 1 if node is not None else None, message)

    def mapping(self, node: yaml.Node, what: str, allowed: Sequence[str]) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping (key: value)")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise self.fail(key_node, f"{what}: keys must be plain words")
            if key not in allowed and not key.startswith("x-"):
                raise self.fail(key_node, f"{what}: unknown field {key!r} (known: {', '.join(allowed)})")
            if key in out:
                raise self.fail(key_node, f"{what}: {key!r} given twice")
            out[key] = (key_node, value_node)
        return out

    def text(self, node: yaml.Node, what: str, *, allow_empty: bool = False) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            raise self.fail(node, f"{what} must be text")
        value = str(node.value).strip()
        if not value and not allow_empty:
            raise self.fail(node, f"{what} must not be empty")
        return value

    def integer(self, node: yaml.Node, what: str) -> int:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{what} must be a whole number")
        try:
            return int(str(node.value))
        except ValueError:
            raise self.fail(node, f"{what} must be a whole number, not {node.value!r}") from None

    def texts(self, node: yaml.Node, what: str) -> list[str]:
        """A list of texts; one text alone is read as a list of one."""
        if isinstance(node, yaml.ScalarNode):
            return [self.text(node, what)] if node.tag != "tag:yaml.org,2002:null" else []
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return [self.text(item, f"{what} entry") for item in node.value]


def _compose(path: Path) -> tuple[_Doc, yaml.Node]:
    doc = _Doc(str(path))
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), None, "file not found (set GONGWEN_CONFIG_DIR or pass the file)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc}") from None
    try:
        node = yaml.compose(raw, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(str(path), line, f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), None, f"not valid YAML: {exc}") from None
    if node is None:
        raise ConfigError(str(path), None, "the file is empty")
    return doc, node


def _top_list(path: Path, key: str) -> tuple[_Doc, yaml.SequenceNode]:
    """The file's one top-level list (`associations:` or `rules:`)."""
    doc, root = _compose(path)
    top = doc.mapping(root, "the file", (key,))
    if key not in top:
        raise doc.fail(root, f"missing '{key}:' list")
    seq = top[key][1]
    if not isinstance(seq, yaml.SequenceNode):
        raise doc.fail(seq, f"'{key}' must be a list")
    return doc, seq


def load_associations(path: Path) -> tuple[Association, ...]:
    doc, seq = _top_list(path, "associations")
    out: list[Association] = []
    seen: dict[str, int] = {}
    names: dict[str, tuple[str, int]] = {}  # matching form of a name or alias → (id, line)
    for node in seq.value:
        fields = doc.mapping(node, "association", ASSOCIATION_KEYS)
        for required in ("id", "name"):
            if required not in fields:
                raise doc.fail(node, f"association without {required!r}")
        ident = doc.text(fields["id"][1], "id")
        if ident.startswith(TAG_PREFIX) or any(c.isspace() for c in ident):
            raise doc.fail(fields["id"][1], f"id {ident!r}: no spaces, and not starting with 'tag:'")
        if ident in seen:
            raise doc.fail(fields["id"][1], f"id {ident!r} is used twice (first at line {seen[ident]})")
        seen[ident] = fields["id"][1].start_mark.line + 1
        contact = None
        if "contact" in fields:
            cfields = doc.mapping(fields["contact"][1], "contact", CONTACT_KEYS)
            contact = AssociationContact(**{k: doc.text(v, k, allow_empty=True) or None for k, (_, v) in cfields.items()
                                            if not k.startswith("x-")})
        association = Association(
            id=ident,
            name=doc.text(fields["name"][1], "name"),
            aliases=doc.texts(fields["aliases"][1], "aliases") if "aliases" in fields else [],
            tags=doc.texts(fields["tags"][1], "tags") if "tags" in fields else [],
            contact=contact,
        )
        line = node.start_mark.line + 1
        for printed in (association.name, *association.aliases):
            key = match_form(printed)
            other = names.get(key)
            if other is not None and other[0] != ident:
                raise doc.fail(node, f"{printed!r} names both {other[0]} (line {other[1]}) and {ident}: "
                                     "a name or alias must belong to one association")
            names[key] = (ident, line)
        out.append(association)
    return tuple(out)


def _condition(doc: _Doc, node: yaml.Node, depth: int = 0) -> Condition:
    line = node.start_mark.line + 1
    if depth > 32:
        raise doc.fail(node, "conditions nested too deep")
    if not isinstance(node, yaml.MappingNode):
        raise doc.fail(node, "a condition must be {field, match, value} or {all: [...]}, {any: [...]}, {not: ...}")
    keys = {k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    for combinator in ("all", "any"):
        if combinator in keys:
            fields = doc.mapping(node, f"'{combinator}'", (combinator,))
            seq = fields[combinator][1]
            if not isinstance(seq, yaml.SequenceNode) or not seq.value:
                raise doc.fail(seq, f"'{combinator}' must be a non-empty list of conditions")
            items = tuple(_condition(doc, item, depth + 1) for item in seq.value)
            return AllOf(items, line) if combinator == "all" else AnyOf(items, line)
    if "not" in keys:
        fields = doc.mapping(node, "'not'", ("not",))
        return Not(_condition(doc, fields["not"][1], depth + 1), line)
    fields = doc.mapping(node, "condition", LEAF_KEYS)
    for required in ("field", "match", "value"):
        if required not in fields:
            raise doc.fail(node, f"condition without {required!r} (or use all/any/not)")
    field_name = doc.text(fields["field"][1], "field")
    if field_name not in CONDITION_FIELDS:
        raise doc.fail(fields["field"][1], f"unknown field {field_name!r} (known: {', '.join(CONDITION_FIELDS)})")
    kind = doc.text(fields["match"][1], "match")
    if kind not in MATCH_KINDS:
        raise doc.fail(fields["match"][1], f"unknown match {kind!r} (known: {', '.join(MATCH_KINDS)})")
    value = doc.text(fields["value"][1], "value")
    threshold = DEFAULT_FUZZY_THRESHOLD
    if "threshold" in fields:
        if kind != "fuzzy":
            raise doc.fail(fields["threshold"][0], "'threshold' belongs to match: fuzzy only")
        threshold = doc.integer(fields["threshold"][1], "threshold")
        if not 0 < threshold <= 100:
            raise doc.fail(fields["threshold"][1], f"threshold {threshold}: must be between 1 and 100")
    if kind == "regex":
        try:
            regex.compile(fold_pattern(value), regex.IGNORECASE | regex.V0)
        except regex.error as exc:
            raise doc.fail(fields["value"][1], f"regex {value!r} does not compile: {exc}") from None
    match_kind: MatchKind = kind  # type: ignore[assignment]
    return Match(field_name, match_kind, value, threshold, fields["value"][1].start_mark.line + 1)


def _targets(doc: _Doc, fields: dict[str, tuple[yaml.Node, yaml.Node]], key: str, rule: str,
             ids: set[str], tags: set[str]) -> tuple[str, ...]:
    """`to`/`except`: association ids and `tag:NAME`, each of which must exist in the registry."""
    if key not in fields:
        return ()
    node = fields[key][1]
    values = doc.texts(node, key)
    for value in values:
        if value.startswith(TAG_PREFIX):
            if value[len(TAG_PREFIX):] not in tags:
                raise doc.fail(node, f"rule {rule!r}: no association has the tag {value[len(TAG_PREFIX):]!r} in '{key}'")
        elif value not in ids:
            raise doc.fail(node, f"rule {rule!r}: unknown association {value!r} in '{key}' (not in the registry)")
    return tuple(values)


def load_rules(path: Path, associations: Sequence[Association]) -> tuple[Rule, ...]:
    doc, seq = _top_list(path, "rules")
    ids = {a.id for a in associations}
    tags = {t for a in associations for t in a.tags}
    names: dict[str, int] = {}
    out: list[Rule] = []
    for node in seq.value:
        fields = doc.mapping(node, "rule", RULE_KEYS)
        for required in ("name", "when", "to"):
            if required not in fields:
                raise doc.fail(node, f"rule without {required!r}")
        name = doc.text(fields["name"][1], "name")
        if name in names:
            raise doc.fail(fields["name"][1], f"rule name {name!r} is used twice (first at line {names[name]})")
        names[name] = node.start_mark.line + 1

        out.append(
            Rule(
                name=name,
                when=_condition(doc, fields["when"][1]),
                to=_targets(doc, fields, "to", name, ids, tags),
                except_=_targets(doc, fields, "except", name, ids, tags),
                priority=doc.integer(fields["priority"][1], "priority") if "priority" in fields else 0,
                group=doc.text(fields["group"][1], "group") if "group" in fields else None,
                line=node.start_mark.line + 1,
            )
        )
    return tuple(out)


def load_config(rules: str | Path | None = None, associations: str | Path | None = None) -> RoutingConfig:
    """The registry and the rules (defaults: `$GONGWEN_CONFIG_DIR/{rules,associations}.yaml`)."""
    rules_path, associations_path = default_paths(rules, associations)
    registry = load_associations(associations_path)
    return RoutingConfig(registry, load_rules(rules_path, registry), str(associations_path), str(rules_path))


def as_plain(config: RoutingConfig) -> dict[str, Any]:
    """The registry as JSON-ready data (for `rules test --json` and the archive's copy)."""
    return {"associations": [a.model_dump(exclude_none=True) for a in config.associations]}
