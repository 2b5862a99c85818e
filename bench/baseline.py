"""The baselines: a bare Flask app (hello, verify one JWT, send a file), run under gunicorn too."""

import os

import jwt
from flask import Flask
from flask import request
from flask import send_file

SECRET = os.environ.get("BENCH_JWT_SECRET", "bench-secret-0123456789-abcdefghijkl")
BLOB = os.environ.get("BENCH_BLOB", "")

app = Flask(__name__)


@app.get("/hello")
def hello():
    return "Hello, World!"


@app.post("/jwt")
def verify():
    body = request.get_json()
    jwt.decode(body["token"], SECRET, algorithms=["HS256"])
    return {"error": 0}


@app.get("/blob")
def blob():
    return send_file(BLOB, mimetype="application/octet-stream")
