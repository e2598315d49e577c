"""Adapters to the outside world: Markdown rendering, and later cache, bus, mail, PDF."""
