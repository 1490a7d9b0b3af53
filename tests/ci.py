"""Whether the tests run under CI, where a missing tool is a failure, never a skip.

``CI`` counts only when it is truthy: ``CI=1``, ``CI=true`` (GitHub, GitLab) are CI; unset, empty,
``0``, ``false``, ``no`` and ``off`` are not.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

_FALSE = {"", "0", "false", "no", "off"}


def in_ci() -> bool:
    """Whether the ``CI`` environment variable is set to a true value."""
    return os.environ.get("CI", "").strip().lower() not in _FALSE


def unavailable(reason: str, what: str) -> NoReturn:
    """Skip the test because ``what`` is missing (``reason``), or fail it under CI, which installs it."""
    if in_ci():
        pytest.fail(f"CI installs {what}, yet: {reason}", pytrace=False)
    pytest.skip(reason)
