"""The live call, modelled once: state, reducer, tracker, console events (docs/calls.md)."""
