"""mitmproxy flow files (`mitmdump -w`, tnetstring) and single flows, read with mitmproxy's own FlowReader.

`flow_to_message` is the one conversion from an `HTTPFlow` to a `Message`; the live addon uses it
too, so a flow judged live and the same flow read back from a dump are the same message. Works
with mitmproxy 11.x and 12.x (only long-stable attributes are used). mitmproxy is imported when a
flow file is read, not when this package is imported.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from cors_audit.errors import InputError
from cors_audit.model import Headers, Message, Source
from cors_audit.sources import WarningLog, id_prefix, make_headers, one_line

if TYPE_CHECKING:
    from mitmproxy import http

Problem = Callable[[str, str], None]  # (kind, problem) -> None


def flow_to_message(
    flow: http.HTTPFlow, source_file: str, index: int | None, *, on_problem: Problem | None = None
) -> Message:
    """The Message for one HTTP flow: no response means `status=None`, `flow.error` becomes `error`.

    Header bytes that are not UTF-8 are decoded with U+FFFD replacements; `on_problem` (if given)
    hears about it.
    """
    request = flow.request
    response = flow.response
    request_headers = _headers(request.headers.fields, on_problem)
    url = _url(request, request_headers)
    if request.method == "CONNECT":
        url = (
            f"https://{url}/"  # the authority-form target as an URL, as mitmproxy's own HAR export writes it
        )
    status = response.status_code if response is not None else None
    return Message(
        id=f"{id_prefix(source_file)}#{index if index is not None else flow.id}",
        started=float(request.timestamp_start or 0.0),
        # Request.method upper-cases; the wire bytes keep `patch` as the page sent it
        method=request.data.method.decode("utf-8", "replace"),
        url=url,
        request_headers=request_headers,
        status=status if status is not None and status > 0 else None,
        response_headers=_headers(response.headers.fields, on_problem) if response is not None else Headers(),
        error=flow.error.msg if flow.error is not None else None,
        via_proxy=True,
        source=Source(file=source_file, index=index, flow_id=flow.id),
    )


def _url(request: http.Request, headers: Headers) -> str:
    """The URL the browser asked for: `pretty_url` (the Host header's view, as in transparent mode).

    `pretty_url` costs several times `url`; when the Host header names the connection's own host and
    port (a browser talking to a regular proxy: nearly always), the two are the same URL.
    """
    if request.first_line_format != "authority" and not request.data.authority:
        host = headers.get("host")
        if host is not None and host in (request.host, f"{request.host}:{request.port}"):
            return request.url
    return request.pretty_url


def _headers(fields: tuple[tuple[bytes, bytes], ...], on_problem: Problem | None) -> Headers:
    items: list[tuple[str, str]] = []
    for raw_name, raw_value in fields:
        try:
            name = raw_name.decode("utf-8")
            value = raw_value.decode("utf-8")
        except UnicodeDecodeError:
            name = raw_name.decode("utf-8", "replace")
            value = raw_value.decode("utf-8", "replace")
            if on_problem is not None:
                on_problem("utf8", f"header {one_line(name)}: bytes that are not UTF-8; replaced with U+FFFD")
        if name and name[0] != ":":
            items.append((name, value))
    return make_headers(items)


def read_flows(path: str, warnings: list[str], data: bytes | None = None) -> Iterator[Message]:
    """Read the first flow now (InputError if the file is not a flow dump); return the lazy stream.

    `data` holds the file's bytes when they were already read (for instance decompressed).
    """
    from mitmproxy import io as mitmproxy_io

    try:
        stream = io.BytesIO(data) if data is not None else open(path, "rb")  # noqa: SIM115 - closed by _flows
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror or e}") from None
    flows: Iterator[object] = iter(mitmproxy_io.FlowReader(stream).stream())
    try:
        first = next(flows, None)
    except Exception as e:  # noqa: BLE001 - FlowReader lets KeyError & co. out of a damaged file
        stream.close()
        raise InputError(path, f"not a mitmproxy flow file ({_reason(e)})", "flow 0") from None
    return _flows(path, stream, first, flows, warnings)


def _flows(
    path: str, stream: io.IOBase, first: object, flows: Iterator[object], warnings: list[str]
) -> Iterator[Message]:
    from mitmproxy import http

    log = WarningLog(path)
    index = 0
    read = 0
    only_tcp = False
    try:
        flow = first
        while flow is not None:
            if isinstance(flow, http.HTTPFlow):
                place = f"flow {index}"

                def problem(kind: str, text: str, place: str = place) -> None:
                    log.add(kind, place, text)

                try:
                    message = flow_to_message(flow, path, index, on_problem=problem)
                except Exception as e:  # noqa: BLE001 - a damaged flow costs a warning, not the file
                    log.add("bad-flow", place, f"cannot read this flow ({_reason(e)}); flow skipped")
                else:
                    read += 1
                    yield message
            index += 1
            try:
                flow = next(flows, None)
            except Exception as e:  # noqa: BLE001 - see read_flows
                log.add(
                    "truncated",
                    f"flow {index}",
                    f"cannot read ({_reason(e)}); stopped reading, the {index} flows before it were read (file truncated?)",
                )
                break
        if read == 0 and not log:
            only_tcp = True
            log.add("no-http", "", f"no HTTP flows among the {index} flows (TCP, UDP or DNS only)")
    finally:
        stream.close()
    log.finish(warnings, usable=read > 0 or only_tcp, what="flow")


def _reason(error: Exception) -> str:
    """mitmproxy's own read errors speak for themselves; anything else gets its type name."""
    from mitmproxy import exceptions

    if isinstance(error, exceptions.FlowReadException):
        return one_line(str(error))
    return one_line(f"{type(error).__name__}: {error}")
