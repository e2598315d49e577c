"""People as pages show them beside what they wrote: a discussion post, a course review."""

from __future__ import annotations

import reflex as rx


def face(name: rx.Var | str, picture: rx.Var | str, initials: rx.Var | str) -> rx.Component:
    """Their uploaded picture (/avatars/…), or their initials without one: one image named for
    them, so a screen reader hears the name once and not the picture's file."""
    return rx.box(rx.avatar(src=picture, fallback=initials, size="2", radius="full",
                            custom_attrs={"alt": ""}),
                  role="img", aria_label=name, flex_shrink="0", line_height="0")
