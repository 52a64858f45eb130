"""hotline-ivr: merge a city's old government hotlines into 12345 on Asterisk."""
__version__ = "0.1.0"
