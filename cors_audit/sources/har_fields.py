"""The HAR fields the reader decodes; the decoder skips everything else (bodies, timings, stacks).

msgspec Structs, kept apart from `har.py` because the compiled build (see `setup.py`) leaves
classes with msgspec's own metaclass to the interpreter.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Header(msgspec.Struct, gc=False):
    name: str = ""
    value: str = ""


class Initiator(msgspec.Struct, gc=False):
    type: str | None = None
    url: str | None = None


class Request(msgspec.Struct, gc=False):
    method: str | None = None
    url: str | None = None
    headers: list[Header] = []


class Response(msgspec.Struct, gc=False):
    status: int | float | None = None
    headers: list[Header] = []
    error: str | None = msgspec.field(default=None, name="_error")  # Chrome, Safari, mitmproxy
    failure_text: str | None = msgspec.field(default=None, name="_failureText")  # Playwright
    charles_status: str | None = msgspec.field(default=None, name="_charlesStatus")  # Charles


class Cache(msgspec.Struct, gc=False):
    # Firefox writes afterRequest (possibly null) only for responses served from its cache
    after_request: Any = msgspec.field(default=msgspec.UNSET, name="afterRequest")


class Entry(msgspec.Struct, gc=False):
    started: str | None = msgspec.field(default=None, name="startedDateTime")
    request: Request | None = None
    response: Response | None = None
    pageref: str | None = None
    cache: Cache | None = None
    initiator: Initiator | str | None = msgspec.field(default=None, name="_initiator")  # Chrome
    resource_type: str | None = msgspec.field(default=None, name="_resourceType")  # Chrome, mitmproxy
    from_cache: str | bool | None = msgspec.field(default=None, name="_fromCache")  # Chrome
    fetch_type: str | None = msgspec.field(default=None, name="_fetchType")  # Safari


class Page(msgspec.Struct, gc=False):
    id: str | None = None
    title: str | None = None


class Creator(msgspec.Struct, gc=False):
    name: str | None = None


ENTRY = msgspec.json.Decoder(Entry)
ENTRIES = msgspec.json.Decoder(list[Entry])
RAW = msgspec.json.Decoder(msgspec.Raw)
STR = msgspec.json.Decoder(str)
ANY = msgspec.json.Decoder()
PAGES = msgspec.json.Decoder(list[Page])
CREATOR = msgspec.json.Decoder(Creator)
