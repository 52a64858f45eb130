"""Where the project's own folders are (the server runs from a checkout)."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DIALPLANS = REPO / "dialplans"
AGI_SCRIPTS = REPO / "agi_scripts"
PROMPTS = REPO / "prompts"  # prompt manifest, operator recordings, build/
STATE = Path("/var/lib/hotline")  # secrets, SQLite database, Asterisk root
