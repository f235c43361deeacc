"""Every request schema reads text people type through the one Text field (schemas/text.py).

A plain String is allowed only for a choice from a list, a pattern (codes, dates) or a machine token.
"""

import importlib
import pkgutil

from marshmallow import Schema, fields, validate

import schemas
from schemas.base import BaseSchema
from schemas.identifiers import CreditCode, IdNumber, MobileNumber
from schemas.registry import RegistryTitle
from schemas.text import Text

# Opaque tokens produced by software, never typed: login and binding codes, check-in codes, device ids.
MACHINE_TOKENS = {"code", "nonce", "device_id", "binding_code"}
# Looked up in a list (regions, ethnic groups, political statuses) or used only as an exact-match filter.
LOOKED_UP = {"region_code", "ethnicity", "political_status", "credit_code"}


def _input_schemas():
    for module in pkgutil.iter_modules(schemas.__path__):
        importlib.import_module(f"schemas.{module.name}")
    seen, pending = set(), list(BaseSchema.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls not in seen:
            seen.add(cls)
            pending.extend(cls.__subclasses__())
    return seen


def _strings(field, name):
    if isinstance(field, fields.List):
        yield from _strings(field.inner, name)
    elif isinstance(field, fields.String):
        yield name, field


def _constrained(field):
    validators = field.validators
    return any(isinstance(v, (validate.OneOf, validate.Regexp, validate.Equal)) for v in validators) or (
        isinstance(field, (fields.Email, fields.URL, Text, IdNumber, CreditCode, MobileNumber, RegistryTitle)))


def test_every_typed_text_field_is_the_text_field():
    plain = []
    for cls in _input_schemas():
        for name, field in cls._declared_fields.items():
            for label, string in _strings(field, name):
                if not _constrained(string) and label not in MACHINE_TOKENS | LOOKED_UP:
                    plain.append(f"{cls.__module__}.{cls.__name__}.{label}")
    assert plain == []


def test_every_text_field_documents_its_maximum_length():
    for cls in _input_schemas():
        for name, field in cls._declared_fields.items():
            for _, string in _strings(field, name):
                if isinstance(string, Text):
                    assert string.metadata["maxLength"] == string.max_length > 0
    assert issubclass(BaseSchema, Schema)
