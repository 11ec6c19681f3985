"""Reading YAML while remembering the line of every key, so errors can name it; within bounds.

Every YAML file the app reads (bank files, contest files) comes through here. An alias (*name)
repeats what its anchor holds without copying it, so a few hundred bytes of nested aliases can
stand for billions of values ("billion laughs"): the aliases, the values composed, the values
reached once aliases are followed, and the nesting are counted as the file is read, and the
file is refused past the limits (UploadLimits: YAML_MAX_ALIASES, YAML_MAX_NODES,
YAML_MAX_DEPTH).
"""

from dataclasses import dataclass, field

import yaml
from flask_babel import lazy_gettext as _l

from quizapp.uploads import UploadLimits, upload_limits


class YAMLFileError(ValueError):
    """The file is not valid YAML, or expands past a limit; `line` is 1-based."""

    def __init__(self, message, line: int | None):
        super().__init__(str(message))
        self.message = message
        self.line = line


@dataclass
class LinedYAML:
    """Parsed data plus the line (1-based) where each path (tuple of keys/indexes) starts."""

    data: object
    lines: dict[tuple, int] = field(default_factory=dict)

    def line_of(self, path: tuple) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def load_lined_yaml(text: str, limits: UploadLimits | None = None) -> LinedYAML:
    """Parse YAML safely, recording where each mapping key and sequence item stands."""
    limits = limits or upload_limits()
    loader = None
    try:
        loader = _BoundedLoader(text, limits)  # refuses unprintable characters at once
        node = loader.get_single_node()
        lines: dict[tuple, int] = {}
        if node is not None:
            _check_expansion(node, limits)  # before anything follows the aliases
            _walk(node, (), lines)
        data = _construct(loader, node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise YAMLFileError(f"not valid YAML: {error.problem or error}", line) from None
    except yaml.YAMLError as error:
        raise YAMLFileError(f"not valid YAML: {error}", None) from None
    finally:
        if loader is not None:
            loader.dispose()
    return LinedYAML(data=data, lines=lines)


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    """The data; a value PyYAML cannot build (a 30 February, !!int 0x) is the file's error."""
    try:
        return loader.construct_document(node)
    except yaml.YAMLError:
        raise
    except (ValueError, TypeError, AttributeError, OverflowError) as error:
        raise YAMLFileError(f"not valid YAML: a value cannot be read ({error})", None) from None


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, counting aliases, composed values and nesting as it composes."""

    def __init__(self, text: str, limits: UploadLimits):
        super().__init__(text)
        self.limits = limits
        self.aliases = self.nodes = self.depth = 0

    def compose_node(self, parent, index):
        line = self.peek_event().start_mark.line + 1
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > self.limits.yaml_aliases:
                raise YAMLFileError(_too_many_aliases(self.limits), line)
            return super().compose_node(parent, index)
        self.nodes += 1
        if self.nodes > self.limits.yaml_nodes:
            raise YAMLFileError(_too_many_nodes(self.limits), line)
        self.depth += 1
        if self.depth > self.limits.yaml_depth:
            raise YAMLFileError(_too_deep(self.limits), line)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _check_expansion(root: yaml.Node, limits: UploadLimits) -> None:
    """Refuse a document whose data, once every alias is followed, would hold more than
    `yaml_nodes` values or nest deeper than `yaml_depth`: each composed node is counted
    once, its expanded size the sum of its children's (an alias inside its own anchor
    would never end, and is refused as too deep)."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        line = node.start_mark.line + 1
        if children_done:
            children = _children(node)
            size[key] = 1 + sum(size[id(child)] for child in children)
            depth[key] = 1 + max((depth[id(child)] for child in children), default=0)
            open_nodes.discard(key)
            if size[key] > limits.yaml_nodes:
                raise YAMLFileError(_too_many_nodes(limits), line)
            if depth[key] > limits.yaml_depth:
                raise YAMLFileError(_too_deep(limits), line)
        elif key in open_nodes:
            raise YAMLFileError(_too_deep(limits), line)
        elif key not in size:
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if id(child) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return []


def _walk(node: yaml.Node, path: tuple, lines: dict[tuple, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            # a key that is a list or mapping: PyYAML refuses it when building the data
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, path + (key,), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), lines)


def _too_many_aliases(limits: UploadLimits):
    return _l(
        "The file uses more than %(n)s aliases (*name); write the repeated parts out.",
        n=limits.yaml_aliases,
    )


def _too_many_nodes(limits: UploadLimits):
    return _l(
        "The file holds more than %(n)s values (an alias counts as everything it repeats); "
        "split it into smaller files.",
        n=limits.yaml_nodes,
    )


def _too_deep(limits: UploadLimits):
    return _l("The file nests more than %(n)s levels deep.", n=limits.yaml_depth)
