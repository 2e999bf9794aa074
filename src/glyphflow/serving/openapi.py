"""The OpenAPI schema of one running service: the generic schema, narrowed to its model.

The request models hold the bounds true for every deployment; this adds what holds for
the served model and config: a style vector has exactly ``latent_dim`` numbers, ``chars``
draws only from the model's charset (and spaces) and is at most ``limits.max_chars``
long, batches and steps stop at their limits. A client generator (or schemathesis)
reading ``/openapi.json`` then knows what a valid request is, instead of learning it
from 422s.
"""

from __future__ import annotations

from typing import Any

from glyphflow.serving.config import LimitsConfig
from glyphflow.serving.schemas import MAX_STYLE_VALUE

__all__ = ["narrow_schema"]

_NUMBER = r"-?[0-9]{1,2}(\.[0-9]{1,6})?"


def _char_class(chars: str) -> str:
    return "".join("\\" + c if c in "\\]^-[" else c for c in chars)


def _vector(dim: int) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "number", "minimum": -MAX_STYLE_VALUE, "maximum": MAX_STYLE_VALUE},
        "minItems": dim,
        "maxItems": dim,
    }


def _narrow_string(prop: dict[str, Any], **values: Any) -> None:
    """Set keys on the string branch of ``prop`` (``anyOf: [string, null]`` or a string)."""
    branches = prop.get("anyOf", [prop])
    for branch in branches:
        if branch.get("type") == "string":
            branch.update(values)


def narrow_schema(
    schema: dict[str, Any], charset: str, latent_dim: int, limits: LimitsConfig
) -> dict[str, Any]:
    """Narrow the generated schema in place to this model and these limits; return it."""
    components = schema.get("components", {}).get("schemas", {})
    drawable = f"^[{_char_class(charset)} ]*$"
    glyphs_only = f"^[{_char_class(charset)}]*$"
    vector_text = rf"^\[\s*{_NUMBER}(\s*,\s*{_NUMBER}){{{latent_dim - 1}}}\s*\]$"

    def props(name: str) -> dict[str, Any]:
        found: dict[str, Any] = components.get(name, {}).get("properties", {})
        return found

    generate = props("GenerateRequest")
    if "styles" in generate:
        generate["styles"].update({"items": _vector(latent_dim), "maxItems": limits.max_batch})
    if "chars" in generate:
        _narrow_string(generate["chars"], pattern=drawable, maxLength=limits.max_chars)

    font = props("FontRequest")
    if "style" in font:
        font["style"].update(_vector(latent_dim))
    if "chars" in font:
        _narrow_string(font["chars"], pattern=drawable, maxLength=limits.max_chars)

    sample = props("SampleRequest")
    if "n" in sample:
        sample["n"]["maximum"] = limits.max_batch

    for name, body in components.items():
        fields = body.get("properties", {})
        if name.startswith("Body_interpolate"):
            if "steps" in fields:
                fields["steps"]["maximum"] = limits.max_steps
            for key in ("style_a", "style_b"):
                if key in fields:
                    _narrow_string(fields[key], pattern=vector_text)
            if "chars" in fields:
                _narrow_string(fields["chars"], pattern=drawable, maxLength=limits.max_chars)
        elif name.startswith("Body_complete") and "chars" in fields:
            _narrow_string(fields["chars"], pattern=glyphs_only, maxLength=limits.max_chars)
    return schema
