"""Ticket drafting from what a caller said: pure text rules, no audio, no I/O.

ivr/speech/ turns audio into text; this package turns text into a draft work
order (ivr.tickets.draft) and spots emergencies (ivr.tickets.emergency), over
a lexicon that is data (lexicon.yaml) a city extends from config.
"""
