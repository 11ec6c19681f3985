"""Reading YAML while remembering the line of every key, so errors can name it."""

from dataclasses import dataclass, field

import yaml


class YAMLFileError(ValueError):
    """The file is not valid YAML; `line` is 1-based."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
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


def load_lined_yaml(text: str) -> LinedYAML:
    """Parse YAML safely, recording where each mapping key and sequence item stands."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise YAMLFileError(f"not valid YAML: {error.problem or error}", line) from None
    except yaml.YAMLError as error:
        raise YAMLFileError(f"not valid YAML: {error}", None) from None
    lines: dict[tuple, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return LinedYAML(data=data, lines=lines)


def _walk(node: yaml.Node, path: tuple, lines: dict[tuple, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, path + (key,), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), lines)
