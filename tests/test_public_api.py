"""The public Python API: every exported name resolves, is documented, and loads lazily."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import optimizer


@pytest.mark.parametrize("name", optimizer.__all__)
def test_exported_name_resolves_and_is_documented(name):
    value = getattr(optimizer, name)
    assert value is getattr(optimizer, name)
    assert inspect.getdoc(value), f"optimizer.{name} has no docstring"


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        optimizer.no_such_thing  # noqa: B018


def test_import_does_not_load_the_stages():
    heavy = ("pandas", "scipy", "optimizer.curves")
    code = f"import optimizer, sys; print(sorted(m for m in {heavy} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"
