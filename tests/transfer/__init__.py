"""Transfers, queues and agents on two real Asterisk instances (center + sub-center)."""
