"""The baseline of the gateway: one trivial Flask route, served exactly like the gateway."""
from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/accept")
    def accept():
        return jsonify(received=request.get_json(silent=True)), 202

    return app
