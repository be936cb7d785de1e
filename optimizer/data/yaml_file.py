"""Reading a YAML file strictly: a key written twice is an error, not silently overwritten.

Plain scalars are read as YAML 1.2 reads them, not as PyYAML's YAML 1.1: only true/false are
booleans (a package called `no` or `on` is that id, not False or True), and a number written
with a leading zero (`0123`), with colons (`19:00` and `1:30.0`, base 60 in YAML 1.1: 1140 and
90.0) or with underscores (`1_000`) is text: room and package ids keep their digits, and a
number field still reads "0800" as 800 and refuses "1:30.0". A float needs a point or an
exponent (`2.5`, `8e4`: YAML 1.1 read `8e4` as text). Dates and times stay YAML 1.1
timestamps, which the config reads as it reads the same text quoted.
"""

from __future__ import annotations

import re
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


_BOOL, _INT, _FLOAT = (f"tag:yaml.org,2002:{name}" for name in ("bool", "int", "float"))
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_StrictLoader.add_implicit_resolver(
    _INT, re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*)|0x[0-9a-fA-F]+|0o[0-7]+)$"),
    list("-+0123456789"))
_StrictLoader.add_implicit_resolver(
    _FLOAT, re.compile(r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?"
                       r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


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
