"""The web application over the archive and the routing queue (docs/web.md).

`app.py` builds the FastAPI application; `users.py` keeps the accounts (no FastAPI: `gongwen
users` uses it). Nothing here is imported by `gongwen --help`: pipeline/cli_web.py imports
inside its commands.
"""
