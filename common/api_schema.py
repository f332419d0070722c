"""The OpenAPI side of SPEC §7's error answers, shared by every endpoint.

- ``ErrorSerializer``: the one ``Error`` component, ``{"detail": "…"}`` or field messages
  ``{"field": ["…"]}``; ``common.api.exception_handler`` guarantees every error body has it.
- ``error_responses(400, 404, …)``: the ``responses`` entries of those statuses, with a default
  description and example each (``descriptions={404: "…"}`` says what a status means here).
- ``AutoSchema`` (``DEFAULT_SCHEMA_CLASS``): adds the statuses any endpoint can answer — 401, 403,
  429; 400, 413, 415 and 503 on writes; 400 where there are query parameters; 404 where the
  path has a parameter or the list is paginated — unless the view declares them itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

JSON = "application/json"

# What each status means when an endpoint says nothing more specific.
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Invalid input; nothing was written. Field messages `{field: [messages]}`, or "
    "`{detail}` when the body as a whole is refused (e.g. not valid JSON).",
    401: "Not authenticated: send `Authorization: Token <key>` (a user's token), "
    "`Authorization: Api-Key <key>` (an API key) or a session; any other scheme is refused.",
    403: "Authenticated, but not allowed: an API key without the operation's scope, a staff "
    "user without its model permission, a seller writing, or a session write without its "
    "CSRF token.",
    404: "Not found, or not yours to see (ids are not confirmed).",
    409: "Conflicts with the current state (a concurrent write, a run in progress); nothing was "
    "written. Retry or wait.",
    413: "The request body is too large; nothing was written. Send fewer items per request.",
    415: "The body is not `application/json`.",
    429: "Too many requests: throttled. Retry after the number of seconds in `detail`.",
    503: "Temporarily unable to answer (the database is busy, or no active grade policy); "
    "nothing was written. Retry later.",
}

ERROR_EXAMPLES: dict[int, dict[str, Any]] = {
    400: {"field": ["This field is required."]},
    401: {"detail": "Authentication credentials were not provided."},
    403: {"detail": "You do not have permission to perform this action."},
    404: {"detail": "Not found."},
    409: {"detail": "A run of 2026-10 is already running."},
    413: {"detail": "The request body is larger than 10 MB; nothing was written."},
    415: {"detail": 'Unsupported media type "text/plain" in request.'},
    429: {"detail": "Request was throttled. Expected available in 12 seconds."},
    503: {"detail": "The database is busy; nothing was written. Retry shortly."},
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error answer (SPEC §7): `detail`, a message about the request as a "
    "whole, and/or field messages: every other key is a field (or a place such as "
    "`levels[1].criteria[0].value`, or `non_field_errors`) with its list of messages.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


class ErrorSerializer(serializers.Serializer):
    """Documents the ``Error`` component (the schema is ``ERROR_SCHEMA``, see the extension
    below: a serializer cannot say "any other key is a list of strings")."""

    detail = serializers.CharField(required=False)


class ErrorSerializerExtension(OpenApiSerializerExtension):
    target_class = ErrorSerializer

    def get_name(self, auto_schema: Any, direction: Any) -> str:
        return "Error"

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return dict(ERROR_SCHEMA)


def error_response(status: int, description: str | None = None) -> OpenApiResponse:
    """One status's entry: the ``Error`` component, a description and an example."""
    example = ERROR_EXAMPLES.get(status, {"detail": ERROR_DESCRIPTIONS.get(status, "Error.")})
    return OpenApiResponse(
        ErrorSerializer,
        description=description or ERROR_DESCRIPTIONS.get(status, "Error."),
        examples=[OpenApiExample(f"{status}", value=example, status_codes=[str(status)])],
    )


def error_responses(
    *statuses: int, descriptions: Mapping[int, str] | None = None
) -> dict[int, OpenApiResponse]:
    """``responses`` entries for these error statuses, e.g.
    ``responses={200: X, **error_responses(400, 409, descriptions={409: "Already running."})}``."""
    descriptions = descriptions or {}
    return {status: error_response(status, descriptions.get(status)) for status in statuses}


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema, plus the error statuses every endpoint can answer, so no
    operation answers a status its schema does not list (views may declare more, or their own
    description of one of these, with ``error_responses``)."""

    def implicit_error_statuses(self) -> list[int]:
        statuses = [401, 403, 429]
        if self.method in WRITE_METHODS:
            statuses += [400, 413, 415, 503]
        if any(p.get("in") == "query" for p in self._get_parameters()):
            statuses.append(400)
        if "{" in self.path or self._get_paginator() is not None:
            statuses.append(404)
        return sorted(set(statuses))

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for status in self.implicit_error_statuses():
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    error_response(status), str(status), (JSON,), direction
                )
        return dict(sorted(responses.items()))


NO_NUL_PATTERN = "^[^\\x00]*$"


def no_nul_in_request_strings(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: every free-text string of a request body says it takes no NUL
    character (``\\x00``), which the API refuses everywhere (DRF's CharField, the ingestion
    reader, the database); strings with a pattern, format or enum already say what they take."""

    def visit(schema: Any) -> None:
        if isinstance(schema, dict):
            if schema.get("type") == "string" and not {"pattern", "format", "enum"} & set(schema):
                schema["pattern"] = NO_NUL_PATTERN
            for value in schema.values():
                visit(value)
        elif isinstance(schema, list):
            for value in schema:
                visit(value)

    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            visit(component)
    return result


def closed_request_bodies(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: every request body object says ``additionalProperties: false``.

    The API refuses a field a body's schema does not list (SPEC §2: 400 naming the field, for
    the ingestion items by ``common.ingest.ItemReader``, for DRF-validated bodies by
    ``common.api.StrictSerializer``, for the policy by its JSON check), so each ``…Request``
    component, and every object nested in one, says so."""

    def visit(schema: Any) -> None:
        if isinstance(schema, dict):
            if schema.get("type") == "object" and "properties" in schema:
                schema.setdefault("additionalProperties", False)
            for value in schema.values():
                visit(value)
        elif isinstance(schema, list):
            for value in schema:
                visit(value)

    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            visit(component)
    return result


def example(
    value: Any,
    *,
    name: str = "Example",
    request: bool = False,
    response: bool = False,
    status_codes: list[str] | None = None,
) -> Any:
    """Class decorator: the serializer's example body in the schema (and Swagger UI), for
    requests (``request=True``), responses (``response=True``) or both. A list or page of the
    serializer shows the example as one item of it."""
    from drf_spectacular.utils import extend_schema_serializer

    if not (request or response):
        request = response = True
    return extend_schema_serializer(
        examples=[
            OpenApiExample(
                name,
                value=value,
                request_only=request and not response,
                response_only=response and not request,
                status_codes=status_codes,
            )
        ]
    )


def links_to_what_was_written(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: OpenAPI links from what a write answers to where it can be read.

    - A PUT of ``…/{id}`` answers the stored item: it links to every GET of that item and
      below it (``/sellers/{external_id}`` → its grade, preview, evidence, evaluations), with
      the id taken from the answer's ``external_id``.
    - A POST to a collection that answers ``{"id", …}`` links to ``<collection>/{param}``.

    Clients and schemathesis' stateful phase follow them (create, then read back).
    """
    paths = result.get("paths", {})
    operation_ids = {
        (path, method): operation.get("operationId")
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    for path, operations in paths.items():
        for method, operation in operations.items():
            links: dict[str, Any] = {}
            if method == "put" and path.endswith("}"):
                param = path.rsplit("{", 1)[1].rstrip("}")
                for target in paths:
                    if target == path or target.startswith(f"{path}/"):
                        target_id = operation_ids.get((target, "get"))
                        if target_id and target.count("{") == 1:
                            links[target_id] = {
                                "operationId": target_id,
                                "parameters": {param: f"$response.body#/{param}"},
                            }
            elif method == "post" and "{" not in path:
                for target in paths:
                    rest = target[len(path) + 1 :] if target.startswith(f"{path}/") else ""
                    if rest.startswith("{") and rest.endswith("}") and "/" not in rest:
                        target_id = operation_ids.get((target, "get"))
                        if target_id:
                            links[target_id] = {
                                "operationId": target_id,
                                "parameters": {rest[1:-1]: "$response.body#/id"},
                            }
            if not links:
                continue
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2") and response.get("content"):
                    response["links"] = dict(links)
    return result


def api_key_scopes(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: each operation names the API key scope it needs
    (``x-api-key-scope``, and a sentence in its description), from ``common.scopes``; one that
    takes no key loses the ``apiKeyAuth`` security requirement."""
    from common import scopes

    for path, operations in result.get("paths", {}).items():
        route = re.sub(r"\{(\w+)\}", r"<\1>", path)
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            rule = scopes.rule_for(route=route.lstrip("/"), method=method.upper())
            security = operation.get("security", [])
            if rule is None:
                operation["security"] = [s for s in security if "apiKeyAuth" not in s]
                continue
            operation["x-api-key-scope"] = rule.scope
            said = f"API key scope: `{rule.scope}`."
            if rule.permissions:
                said += f" Staff users need: {', '.join(rule.permissions)}."
            text = operation.get("description", "")
            operation["description"] = f"{text}\n\n{said}" if text else said
    return result
