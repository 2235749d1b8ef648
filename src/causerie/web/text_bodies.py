"""Bodies made of text alone, validated on pydantic's JSON fast path.

Every request model refuses the values `web/wire_values.py` refuses with a `before` validator
(`refuse_faults`), which takes pydantic off its JSON fast path: the body is turned into Python
objects for the validator, scanned, then validated from those. For a model whose fields are all
text (or absent, or models of text alone), such as the chatbox load's `SessionIn`, the same
answer comes cheaper the other way round: validated straight from the JSON by a twin of the
model without the scan, and only its texts checked after. On a chatbox load's body: 2.9 µs
against 6.8 (docs/performance.md, "renewal6").

Nothing changes on the wire. A body the twin refuses, or whose texts hold a fault, is validated
again by the model itself, so every refusal, its error and which one comes first are the
model's own. A body the twin accepts held only the model's fields (unknown ones are refused),
each text or null (a number, list or object in a text field is refused): its texts are all of
its values, so checking them is the scan the model would have made, and then the model would
have given the same object. If a later pydantic kept the scan in the twin, answers would still
be the same, only not faster.
"""

from __future__ import annotations

import types
from functools import cache
from collections.abc import Callable
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator, ValidationError
from pydantic import PlainValidator, WrapValidator
from pydantic.fields import FieldInfo
from pydantic_core import SchemaValidator

from causerie.web.wire_values import bad_text, refuse_faults

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])

# The `after` validators of text fields that refuse every text holding a NUL or a lone
# surrogate (a pattern of ASCII characters, say): what they return cannot hide a fault.
_REFUSING_FAULTS: set[Callable[..., Any]] = set()


def refuses_faults(validator: F) -> F:
    """Declares an `after` validator of a text field one that refuses any text holding a NUL or
    a lone surrogate, so that its field still counts as text alone here."""
    _REFUSING_FAULTS.add(validator)
    return validator


def validate_text_body(raw: bytes, model: type[M]) -> M | None:
    """`raw` as `model`, when it is a body of text alone that the model accepts; None when
    the model itself must validate it (another kind of model, a refusal, a fault)."""
    twin = _twin(model)
    if twin is None:
        return None
    try:
        parsed: M = twin.validate_json(raw)
    except ValidationError:
        return None
    return parsed if _texts_sound(parsed) else None


def _texts_sound(value: BaseModel) -> bool:
    for item in value.__dict__.values():
        if item.__class__ is str:
            if bad_text(item):
                return False
        elif item is not None and not (isinstance(item, BaseModel) and _texts_sound(item)):
            return False
    return True


@cache
def _twin(model: type[BaseModel]) -> SchemaValidator | None:
    """A validator of `model` without its scans, or None if `model` holds more than text."""
    models = _text_models(model)
    if models is None:
        return None
    schema = _without_scans(model.__pydantic_core_schema__)
    # pydantic-core reuses a complete model class's own validator for its schema (its "prebuilt"
    # validators), scan included: only a class that says it is incomplete gets built afresh.
    for each in models:
        type.__setattr__(each, "__pydantic_complete__", False)
    try:
        return SchemaValidator(schema)  # type: ignore[arg-type]
    finally:
        for each in models:
            type.__setattr__(each, "__pydantic_complete__", True)


def _text_models(model: type[BaseModel]) -> set[type[BaseModel]] | None:
    """`model` and the models in its fields, if every field is text or such a model (either
    may be optional); else None."""
    found = {model}
    for field in model.model_fields.values():
        if not _plain(field.metadata):
            return None
        annotation = field.annotation
        if get_origin(annotation) in (Union, types.UnionType):
            kinds = [a for a in get_args(annotation) if a is not type(None)]
            if len(kinds) != 1:
                return None
            (annotation,) = kinds
        if get_origin(annotation) is Annotated:
            annotation, *metadata = get_args(annotation)
            if not _plain(metadata):
                return None
        if annotation is str:
            continue
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        inner = _text_models(annotation)
        if inner is None:
            return None
        found |= inner
    return found


def _plain(metadata: list[Any]) -> bool:
    """Whether a field's metadata holds no validator but those `refuses_faults` declared."""
    for item in metadata:
        if isinstance(item, FieldInfo):
            if not _plain(item.metadata):
                return False
        elif isinstance(item, AfterValidator):
            if item.func not in _REFUSING_FAULTS:
                return False
        elif isinstance(item, BeforeValidator | WrapValidator | PlainValidator):
            return False
    return True


def _without_scans(schema: Any) -> Any:
    """A copy of a core schema without the `refuse_faults` validators (classes and functions
    are kept as they are)."""
    if isinstance(schema, list):
        return [_without_scans(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "function-before":
        function = schema.get("function", {})
        if function.get("function") is refuse_faults:
            return _without_scans(schema["schema"])
    return {
        key: value if key in ("cls", "function", "metadata") else _without_scans(value)
        for key, value in schema.items()
    }
