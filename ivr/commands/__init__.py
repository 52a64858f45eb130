"""`hotline` subcommands: one module per command group, found by name.

Each module defines `register(subparsers)` which adds its parser and sets
`func` (returning the exit code) with `parser.set_defaults(func=...)`.
"""
