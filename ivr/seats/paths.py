"""The browser seat's static files: public like the rest of the console shell (no data in them).

Kept import-free so ivr/web/auth.py can list them without an import cycle.
"""
PHONE_FILES = {
    "/console/phone.js": ("phone.js", "text/javascript"),
    "/console/phone.css": ("phone.css", "text/css"),
    "/console/seatstate.js": ("seatstate.js", "text/javascript"),
    "/console/board.js": ("board.js", "text/javascript"),
    "/console/workdesk.js": ("workdesk.js", "text/javascript"),
    "/console/ringpop.js": ("ringpop.js", "text/javascript"),
    "/console/vendor/jssip.min.js": ("vendor/dist/jssip.min.js", "text/javascript"),
}
PUBLIC_PATHS = frozenset(PHONE_FILES)
