"""The examples in docstrings run as tests."""

import doctest
import importlib
import pkgutil

import pytest

import capacity

MODULES = sorted(m.name for m in pkgutil.walk_packages(capacity.__path__, "capacity."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
