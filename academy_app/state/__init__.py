"""Reflex states: thin. They read input, call a service, and set what the page shows."""
