"""OpenAPI 3.1 for the HTTP API, built from the pydantic models the views validate with.

Request bodies come from the very models `schemas.parse` validates; tests check that every
route the app serves under /api/ is described here, so the document cannot silently drift.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from service import api_models as m
from service.models import MAX_ID
from service.moderation_schemas import BulkDecisionRequest, DecisionRequest, PreviewRequest
from service.policy import SitePolicy
from service.schemas import CommentSubmission
from service.webhooks import WebhookRegistration

REF = "#/components/schemas/{model}"
MODELS: list[type[BaseModel]] = [
    CommentSubmission, DecisionRequest, BulkDecisionRequest, PreviewRequest, WebhookRegistration,
    SitePolicy, m.ErrorBody, m.CommentList, m.SubmitAccepted, m.OwnStatus, m.ChangeList,
    m.Counts, m.ModerationList, m.Health,
]
BEARER = [{"bearer": []}]


def ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def query(name: str, description: str, *, required: bool = False, schema: dict | None = None,
          many: bool = False) -> dict[str, Any]:
    schema = schema or {"type": "string"}
    if many:
        schema = {"type": "array", "items": schema}
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema, **({"style": "form", "explode": True} if many else {})}


def path_id(name: str = "comment_id") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


def int_range(low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high}


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(model)}}}


def answer(description: str, model: type[BaseModel] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description}
    if model is not None:
        out["content"] = {"application/json": {"schema": ref(model)}}
    return out


def errors(*codes: int) -> dict[str, Any]:
    return {str(code): answer("error", m.ErrorBody) for code in codes}


SITE = query("site", "Site slug.", required=True)
POSITIVE = int_range(0, MAX_ID)


def operations() -> dict[str, dict[str, Any]]:
    """Path -> method -> operation. Keys use OpenAPI's {param} form of the Flask rule."""
    auth = {"security": BEARER}
    return {
        "/api/v1/comments": {
            "post": {"summary": "Submit a comment (stored as pending, checked asynchronously)",
                     "requestBody": json_body(CommentSubmission),
                     "responses": {"202": answer("stored, checks queued", m.SubmitAccepted),
                                   **errors(400, 403, 404, 413, 415, 422, 429, 503)}},
            "get": {"summary": "Approved comments of one article, oldest first",
                    "parameters": [SITE, query("article", "Article key.", required=True),
                                   query("after", "Cursor from `next`.", schema=POSITIVE),
                                   query("limit", "Page size.", schema=int_range(1, 200))],
                    "responses": {"200": answer("a page", m.CommentList),
                                  "304": answer("unchanged (If-None-Match)"),
                                  **errors(403, 404, 422)}},
        },
        "/api/v1/comments/{comment_id}/status": {
            "get": {"summary": "The submitter's own view of their comment",
                    "parameters": [path_id(), query("token", "Token from the 202 answer.",
                                                    required=True)],
                    "responses": {"200": answer("status", m.OwnStatus), **errors(403, 404)}},
        },
        "/api/v1/comments/{comment_id}": {
            "delete": {"summary": "The author removes their own comment",
                       "parameters": [path_id(), query("token", "Token from the 202 answer.",
                                                       required=True)],
                       "responses": {"200": answer("removed", m.OwnStatus),
                                     **errors(403, 404, 409)}},
        },
        "/api/v1/counts": {
            "get": {"summary": "Approved comment counts for several articles",
                    "parameters": [SITE, query("article", "Article key (repeat).",
                                               required=True, many=True)],
                    "responses": {"200": answer("counts", m.Counts), **errors(403, 404, 422)}},
        },
        "/api/v1/changes": {
            "get": {"summary": "Change feed: approvals, removals and edits in seq order", **auth,
                    "parameters": [SITE, query("since", "Last seq seen.", schema=POSITIVE),
                                   query("limit", "Page size.", schema=int_range(1, 1000)),
                                   query("wait", "Long-poll seconds.", schema=int_range(0, 30))],
                    "responses": {"200": answer("events", m.ChangeList),
                                  "304": answer("nothing new"), **errors(401, 403, 404, 422)}},
        },
        "/api/v1/moderation/queue": {
            "get": {"summary": "Comments waiting for a moderator", **auth,
                    "parameters": [SITE, query("status", "Default review."),
                                   query("article", "Only this article."),
                                   query("q", "Text search in body and name."),
                                   query("order", "oldest or newest."),
                                   query("after", "Cursor.", schema=POSITIVE),
                                   query("limit", "Page size.", schema=int_range(1, 200))],
                    "responses": {"200": answer("queue", m.ModerationList),
                                  **errors(401, 403, 404, 422)}},
        },
        "/api/v1/moderation/me": {
            "get": {"summary": "The token's role and sites", **auth,
                    "responses": {"200": answer("token"), **errors(401)}},
        },
        "/api/v1/moderation/comments/{comment_id}": {
            "get": {"summary": "One comment with checks, author history and audit trail", **auth,
                    "parameters": [path_id()],
                    "responses": {"200": answer("comment"), **errors(401, 403, 404)}},
        },
        "/api/v1/moderation/comments/{comment_id}/decision": {
            "post": {"summary": "Approve, reject, mark spam or ham, or remove", **auth,
                     "parameters": [path_id()], "requestBody": json_body(DecisionRequest),
                     "responses": {"200": answer("decided"),
                                   **errors(400, 401, 403, 404, 409, 415, 422)}},
        },
        "/api/v1/moderation/decisions": {
            "post": {"summary": "The same decision for many comments, all or nothing", **auth,
                     "requestBody": json_body(BulkDecisionRequest),
                     "responses": {"200": answer("decided"),
                                   **errors(400, 401, 403, 404, 409, 415, 422)}},
        },
        "/api/v1/moderation/sites/{slug}/policy": {
            "get": {"summary": "A site's policy (admin)", **auth,
                    "parameters": [{"name": "slug", "in": "path", "required": True,
                                    "schema": {"type": "string"}}],
                    "responses": {"200": answer("policy", SitePolicy), **errors(401, 403, 404)}},
            "patch": {"summary": "Change a site's policy (admin, audited)", **auth,
                      "parameters": [{"name": "slug", "in": "path", "required": True,
                                      "schema": {"type": "string"}}],
                      "requestBody": {"required": True, "content": {"application/json": {
                          "schema": {"type": "object"}}}},
                      "responses": {"200": answer("policy", SitePolicy),
                                    **errors(400, 401, 403, 404, 415, 422)}},
        },
        "/api/v1/moderation/sites/{slug}/policy/preview": {
            "post": {"summary": "Which recent decisions a proposed policy would change", **auth,
                     "parameters": [{"name": "slug", "in": "path", "required": True,
                                     "schema": {"type": "string"}}],
                     "requestBody": json_body(PreviewRequest),
                     "responses": {"200": answer("changes"),
                                   **errors(400, 401, 403, 404, 415, 422)}},
        },
        "/api/v1/webhooks": {
            "get": {"summary": "A site's webhooks (admin)", **auth, "parameters": [SITE],
                    "responses": {"200": answer("webhooks"), **errors(401, 403, 404, 422)}},
            "post": {"summary": "Register a webhook (admin); the secret is shown once", **auth,
                     "parameters": [SITE], "requestBody": json_body(WebhookRegistration),
                     "responses": {"201": answer("registered"),
                                   **errors(400, 401, 403, 404, 415, 422)}},
        },
        "/api/v1/webhooks/{webhook_id}": {
            "delete": {"summary": "Delete a webhook (admin)", **auth,
                       "parameters": [path_id("webhook_id")],
                       "responses": {"200": answer("deleted"), "204": answer("deleted"),
                                     **errors(401, 403, 404)}},
        },
        "/api/v1/webhooks/{webhook_id}/deliveries": {
            "get": {"summary": "Delivery log of a webhook (admin)", **auth,
                    "parameters": [path_id("webhook_id"),
                                   query("before", "Cursor.", schema=POSITIVE),
                                   query("limit", "Page size.", schema=int_range(1, 100))],
                    "responses": {"200": answer("deliveries"), **errors(401, 403, 404, 422)}},
        },
        "/healthz": {"get": {"summary": "Process is up",
                             "responses": {"200": answer("up", m.Health)}}},
        "/readyz": {"get": {"summary": "Database and broker reachable",
                            "responses": {"200": answer("ready", m.Health),
                                          "503": answer("not ready", m.ErrorBody)}}},
    }


def build_document(server_url: str = "/") -> dict[str, Any]:
    _, schemas = models_json_schema([(model, "validation") for model in MODELS],
                                    ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Vetted", "version": "1",
                 "description": "Self-hosted comment moderation: submit, check, publish."},
        "servers": [{"url": server_url}],
        "paths": operations(),
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "vetted tokens create --role ..."}},
        },
    }


bp = Blueprint("openapi", __name__)



@bp.get("/openapi.json")
def openapi_json() -> Response:
    return current_app.json.response(build_document())


@bp.get("/docs")
def docs() -> str:
    return render_template("docs.html", paths=operations())


@bp.get("/docs.css")
def docs_css() -> Response:
    css = ("body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
           "padding:0 1rem}section{border-top:1px solid #ccc;padding:.5rem 0}"
           "code{background:#f3f3f3;padding:0 .2rem}")
    return Response(css, mimetype="text/css")
