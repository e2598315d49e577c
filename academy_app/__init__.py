"""Academy: an online learning platform built with Reflex."""
