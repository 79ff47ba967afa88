"""Flask with Flask-CORS, one resource pattern per configuration.

    python flask_app.py PORT ALLOWED_ORIGIN

/star/*  origins="*", supports_credentials=True: Flask-CORS reflects every Origin (flag it)
/one/*   origins=ALLOWED_ORIGIN, supports_credentials=True: one origin (nothing above info)
"""

from __future__ import annotations

import sys

from flask import Flask, jsonify
from flask_cors import CORS


def build(allowed: str) -> Flask:
    app = Flask(__name__)
    CORS(
        app,
        resources={
            r"/star/*": {"origins": "*", "supports_credentials": True},
            r"/one/*": {"origins": allowed, "supports_credentials": True},
        },
    )

    for prefix in ("star", "one"):
        app.add_url_rule(f"/{prefix}/data", f"{prefix}_data", lambda: jsonify(user="alice"))
        app.add_url_rule(
            f"/{prefix}/items", f"{prefix}_items", lambda: jsonify(updated=True), methods=["PUT", "DELETE"]
        )
    return app


if __name__ == "__main__":
    build(sys.argv[2]).run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
