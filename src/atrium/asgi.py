"""The ASGI entry point for uvicorn: `atrium.asgi:app`."""

from atrium.app import create_app

app = create_app()
