"""The ceiling: the smallest Flask app, served by the same gunicorn settings as the others.

`gunicorn bench.hello_app:app` — every figure in bench/run.py is compared with this one.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> dict[str, str]:
    return {"hello": "world"}
