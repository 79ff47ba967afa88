"""FastAPI with Starlette's CORSMiddleware, one mounted sub-application per configuration.

    python fastapi_app.py PORT ALLOWED_ORIGIN

/star/*  allow_origins=["*"], allow_credentials=True: Starlette 1.x reflects every Origin (flag it)
/list/*  allow_origins=[ALLOWED_ORIGIN], allow_credentials=True: an explicit list (do not)
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware


def api() -> FastAPI:
    sub = FastAPI()

    @sub.get("/data")
    def data() -> dict[str, str]:
        return {"user": "alice"}

    @sub.put("/items")
    def put_items() -> dict[str, bool]:
        return {"updated": True}

    @sub.delete("/items")
    def delete_items() -> Response:
        return Response(status_code=204)

    return sub


def build(allowed: str) -> FastAPI:
    app = FastAPI()
    star = api()
    star.add_middleware(
        CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"], allow_headers=["*"]
    )
    listed = api()
    listed.add_middleware(
        CORSMiddleware,
        allow_origins=[allowed],
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    app.mount("/star", star)
    app.mount("/list", listed)
    return app


if __name__ == "__main__":
    uvicorn.run(build(sys.argv[2]), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
