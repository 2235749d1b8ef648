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
from collections.abc import Callable
from functools import cache
from operator import itemgetter
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    PlainValidator,
    ValidationError,
    WrapValidator,
)
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
    validator, texts = twin
    try:
        parsed: M = validator.validate_json(raw)
    except ValidationError:
        return None
    return parsed if texts.sound(parsed) else None


class _Texts:
    """Where a model of text alone holds its texts: fields of text, fields of such models."""

    __slots__ = ("_models", "_texts")

    def __init__(self, model: type[BaseModel], models: dict[str, _Texts]) -> None:
        texts = [name for name in model.model_fields if name not in models]
        # All at once, as a tuple whatever their number (one name twice: a tuple still).
        self._texts: Callable[[dict[str, Any]], tuple[str | None, ...]] = (
            (itemgetter(*texts, *texts) if len(texts) == 1 else itemgetter(*texts))
            if texts
            else (lambda values: ())
        )
        self._models = list(models.items())

    def sound(self, value: BaseModel) -> bool:
        """Whether no text of `value`, at any depth, holds a NUL or a lone surrogate."""
        values = value.__dict__
        # Each is a text or None (left out). A NUL or a lone surrogate is one code point: the
        # texts joined hold one exactly when one of them does.
        if bad_text("".join(filter(None, self._texts(values)))):
            return False
        for name, inner in self._models:
            nested = values[name]
            if nested is not None and not inner.sound(nested):
                return False
        return True


@cache
def _twin(model: type[BaseModel]) -> tuple[SchemaValidator, _Texts] | None:
    """A validator of `model` without its scans, and where its texts are; None if `model`
    holds more than text."""
    texts = _texts_of(model)
    if texts is None:
        return None
    models = _models_in(model)
    schema = _without_scans(model.__pydantic_core_schema__)
    # pydantic-core reuses a complete model class's own validator for its schema (its "prebuilt"
    # validators), scan included: only a class that says it is incomplete gets built afresh.
    for each in models:
        type.__setattr__(each, "__pydantic_complete__", False)
    try:
        return SchemaValidator(schema), texts
    finally:
        for each in models:
            type.__setattr__(each, "__pydantic_complete__", True)


def _texts_of(model: type[BaseModel]) -> _Texts | None:
    """Where `model`'s texts are, if every field is text or a model of text alone (either may
    be optional); else None."""
    models: dict[str, _Texts] = {}
    for name, field in model.model_fields.items():
        kind = _kind(field)
        if kind is None:
            return None
        if issubclass(kind, BaseModel):
            inner = _texts_of(kind)
            if inner is None:
                return None
            models[name] = inner
    return _Texts(model, models)


def _models_in(model: type[BaseModel]) -> set[type[BaseModel]]:
    """`model` and the models of its fields, at any depth (of a model `_texts_of` accepted)."""
    found = {model}
    for field in model.model_fields.values():
        kind = _kind(field)
        if kind is not None and issubclass(kind, BaseModel):
            found |= _models_in(kind)
    return found


def _kind(field: FieldInfo) -> type[BaseModel] | type[str] | None:
    """`str` for a field of text, the model for a field of a model (either may be optional,
    text may be constrained); None for anything else, or a field with a validator that might
    hide a fault."""
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
        return str
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


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
