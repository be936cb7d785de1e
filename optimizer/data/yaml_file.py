"""Reading a YAML file strictly: a key written twice is an error, not silently overwritten."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from optimizer.errors import InputError


class _StrictLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> Any:
    """The document in the YAML file at `path`; InputError naming the file on any problem."""
    try:
        with path.open(encoding="utf-8-sig") as stream:
            return yaml.load(stream, Loader=_StrictLoader)
    except FileNotFoundError:
        raise InputError("file not found", source=str(path), fix="check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read the file ({exc})",
            source=str(path),
            fix="check that it is a readable UTF-8 text file",
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise InputError(
            f"not valid YAML: {exc.problem or exc.context}",
            source=str(path),
            where=f"line {mark.line + 1}, column {mark.column + 1}" if mark else None,
            fix="correct the YAML syntax (indentation, colons, quotes)",
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(
            f"not valid YAML: {exc}", source=str(path), fix="correct the YAML syntax"
        ) from None
