"""Helpers the tests (and benchmarks) share: real Asterisk instances, SIP phones, audio, web clients."""
