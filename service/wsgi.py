"""Production entry point: `gunicorn service.wsgi:app`."""

from service import create_app
from service.config import DEV_SECRET_KEY

app = create_app()

# A deployment on the placeholder key would make avatar seeds guessable: refuse to start.
if app.config["SECRET_KEY"] in ("", None, DEV_SECRET_KEY) or len(app.config["SECRET_KEY"]) < 16:
    raise SystemExit("vetted: set VETTED_SECRET_KEY to a long random value before starting")
