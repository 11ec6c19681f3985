"""The yardstick: a hello-world Flask app, served by bench/load.py under the app's gunicorn.conf.py."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/hello")
def hello():
    return jsonify(hello="world")
