"""Open311 GeoReport v2 over HTTP, under /open311/v2/ (JSON only): parsing, validation and the
spec's error format; the use cases are handlers/open311.py."""

import asyncio
import json
import math
from datetime import datetime
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from handlers import open311
from handlers.context import Services
from handlers.open311 import NewRequest, Open311Error

MAX_BODY = 64 * 1024
FIELDS = ("api_key", "service_code", "description", "lat", "long", "address_string", "media_url")


def routes(services: Services) -> list[Route]:
    async def service_list(_: Request) -> Response:
        return JSONResponse(open311.service_list(services))

    async def requests(request: Request) -> Response:
        if request.method == "POST":
            return await _answer(lambda fields: open311.file_request(services, _new_request(fields)), await _form(request), 201)
        query = request.query_params
        return await _answer(
            lambda _: open311.request_list(
                services,
                status=query.get("status") or None,
                service_codes=[code for code in (query.get("service_code") or "").split(",") if code] or None,
                start=_when(query.get("start_date"), "start_date"),
                end=_when(query.get("end_date"), "end_date"),
            ),
            {},
        )

    async def one(request: Request) -> Response:
        number = request.path_params["number"]
        if not number.isdigit() or len(number) > 9:
            return _error(Open311Error(404, f"no service request {number!r}"))
        return await _answer(lambda _: open311.one_request(services, int(number)), {})

    return [
        Route("/open311/v2/services.json", service_list, methods=["GET"]),
        Route("/open311/v2/requests.json", requests, methods=["GET", "POST"]),
        Route("/open311/v2/requests/{number}.json", one, methods=["GET"]),
    ]


async def _answer(use_case, fields, status: int = 200) -> Response:
    try:
        if isinstance(fields, Open311Error):
            raise fields
        body = await asyncio.to_thread(use_case, fields)
    except Open311Error as error:
        return _error(error)
    return JSONResponse(body if isinstance(body, list) else [body], status_code=status)


def _error(error: Open311Error) -> Response:
    return JSONResponse([{"code": error.status, "description": error.description}], status_code=error.status)


async def _form(request: Request) -> dict | Open311Error:
    """The POST body: form-encoded as the spec sends it, or JSON."""
    body = await request.body()
    if len(body) > MAX_BODY:
        return Open311Error(413, "request body too large")
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            fields = json.loads(body or b"{}")
            if not isinstance(fields, dict):
                raise ValueError("not an object")
        else:
            fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)))
    except (ValueError, UnicodeDecodeError):
        return Open311Error(400, "malformed body: send application/x-www-form-urlencoded or a JSON object")
    return {**dict(request.query_params), **{k: v for k, v in fields.items() if k in FIELDS}}


def _new_request(fields: dict) -> NewRequest:
    description = str(fields.get("description") or "").strip()
    code = str(fields.get("service_code") or "").strip()
    if not fields.get("api_key"):
        raise Open311Error(403, "api_key is required")
    if not code:
        raise Open311Error(400, "service_code is required")
    if not description:
        raise Open311Error(400, "description is required")
    if len(description) > open311.MAX_DESCRIPTION:
        raise Open311Error(400, f"description is longer than {open311.MAX_DESCRIPTION} characters")
    lat, long = _number(fields.get("lat"), "lat", 90), _number(fields.get("long"), "long", 180)
    if (lat is None) != (long is None):
        raise Open311Error(400, "lat and long come together")
    media = str(fields.get("media_url") or "").strip() or None
    if media and (not media.startswith(("http://", "https://")) or any(c.isspace() for c in media)):
        raise Open311Error(400, "media_url must be an http(s) URL")
    address = str(fields.get("address_string") or "").strip()[:200] or None
    return NewRequest(str(fields["api_key"]), code, description, lat, long, address, media)


def _number(value, name: str, limit: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Open311Error(400, f"{name} must be a number") from None
    if not math.isfinite(number) or abs(number) > limit:
        raise Open311Error(400, f"{name} is out of range")
    return number


def _when(value: str | None, name: str) -> datetime | None:
    """W3C / ISO 8601 with a time zone, as the spec's dates are."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} must be an ISO 8601 date-time, e.g. 2026-11-01T00:00:00+08:00") from None
    if moment.tzinfo is None:
        raise Open311Error(400, f"{name} needs a time zone, e.g. +08:00")
    return moment
