"""FastAGI route handlers: one module per entry point, each registering with `@route(...)`.

Importing this package imports every module in it, so a new route is just a
new file here.
"""
from ivr.agi.registry import import_all

LOADED = import_all(__name__)
