"""Validation rules: each a small module, all in the ``validation_rule`` registry.

The built-in rules register here; plugins add theirs through the ``glyphflow.plugins``
entry point (see :mod:`glyphflow.validation.rules.base`). Importing this package is
light (pydantic only), so config loading stays fast.
"""

from __future__ import annotations

from glyphflow.validation.rules.base import (
    CorpusRule,
    FontRule,
    Rule,
    RuleContext,
    RuleParams,
    ordered_rules,
    validation_rules,
)
from glyphflow.validation.rules.coverage import CoverageRule
from glyphflow.validation.rules.duplicates import DuplicatesRule
from glyphflow.validation.rules.licence import LicenceRule
from glyphflow.validation.rules.outlines import OutlinesRule
from glyphflow.validation.rules.parsing import ParsesRule
from glyphflow.validation.rules.sanity import SanityRule
from glyphflow.validation.rules.symbol import SymbolRule

__all__ = [
    "BUILTIN_RULES",
    "CorpusRule",
    "FontRule",
    "Rule",
    "RuleContext",
    "RuleParams",
    "ordered_rules",
    "validation_rules",
]

BUILTIN_RULES: tuple[type[Rule], ...] = (
    ParsesRule,
    OutlinesRule,
    SanityRule,
    CoverageRule,
    SymbolRule,
    LicenceRule,
    DuplicatesRule,
)

for _rule in BUILTIN_RULES:
    validation_rules.register(_rule.name, _rule)
