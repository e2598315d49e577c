"""The discussion section under a lesson: ask, answer, vote and accept, live in every open tab."""

from __future__ import annotations

import reflex as rx

from academy_app.components.layout import icon_either, labelled
from academy_app.components.people import face
from academy_app.services.discussions import HIDDEN, WAITING
from academy_app.state.discussions import SORTS, DiscussionState, PostLine, ThreadLine


def _badge(text: str, color: str, icon: str) -> rx.Component:
    return rx.badge(rx.icon(icon, size=12), text, color_scheme=color, variant="soft")


def thread_badges(thread: ThreadLine) -> rx.Component:
    return rx.hstack(
        rx.badge(rx.cond(thread.kind == "question", "Question", "Discussion"), variant="outline"),
        rx.cond(thread.accepted, _badge("Answer accepted", "green", "circle-check"),
                rx.cond(thread.answered, _badge("Answered", "blue", "message-circle-reply"),
                        rx.cond(thread.kind == "question",
                                _badge("Waiting for an answer", "orange", "clock")))),
        spacing="2", wrap="wrap",
    )


def waiting_badge() -> rx.Component:
    """On a post held for review: only its author and the course's staff ever see one."""
    return _badge(WAITING, "amber", "hourglass")


def thread_card(thread: ThreadLine) -> rx.Component:
    return rx.card(rx.vstack(
        thread_badges(thread),
        rx.cond(thread.hidden, _badge("Hidden from learners", "orange", "eye-off")),
        rx.cond(thread.held, waiting_badge()),
        rx.button(thread.title, variant="ghost", size="3", on_click=DiscussionState.open_thread(
            thread.id), aria_label="Open thread: " + thread.title,
            # Aligned with the text around it, and a long title wraps.
            style={"margin": "0", "padding": "0", "height": "auto", "font_weight": "600",
                   "text_align": "left", "white_space": "normal"}),
        rx.text(thread.author, " · ", thread.when,
                rx.cond(DiscussionState.search != "", " · in " + thread.lesson_title, ""),
                size="1", color_scheme="gray"),
        rx.text(rx.icon("message-square", size=14), thread.counts, size="1", color_scheme="gray",
                display="flex", align_items="center", gap="6px"),
        spacing="2", align="start", width="100%",
    ), width="100%")


def compose_form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.radio_group.root(
            rx.hstack(
                rx.el.label(rx.radio_group.item(value="question"), "Question",
                            style={"display": "flex", "gap": "6px", "align_items": "center"}),
                rx.el.label(rx.radio_group.item(value="discussion"), "Discussion",
                            style={"display": "flex", "gap": "6px", "align_items": "center"}),
                spacing="4",
            ),
            value=DiscussionState.kind, on_change=DiscussionState.set_kind,
            aria_label="Kind of post",
        ),
        labelled("Title", "discussion-title", rx.input(
            id="discussion-title", value=DiscussionState.title,
            on_change=DiscussionState.set_title, width="100%",
            aria_describedby="discussion-title-error"), DiscussionState.errors.get("title", "")),
        labelled("Details", "discussion-body", rx.text_area(
            id="discussion-body", value=DiscussionState.body, on_change=DiscussionState.set_body,
            rows="5", width="100%", aria_describedby="discussion-body-error"),
            DiscussionState.errors.get("body", ""),
            hint="Markdown works, code blocks too. Mention the instructor with @name."),
        anonymous_choice(DiscussionState.anonymous, DiscussionState.set_anonymous,
                         "discussion-anonymous"),
        rx.cond(DiscussionState.errors.get("request", "") != "",
                rx.text(DiscussionState.errors.get("request", ""), color_scheme="red", size="2",
                        role="alert")),
        rx.hstack(rx.spacer(),
                  rx.button("Cancel", variant="soft", color_scheme="gray",
                            on_click=DiscussionState.toggle_compose),
                  rx.button("Post", on_click=DiscussionState.post_thread), width="100%"),
        spacing="3", width="100%",
    ), width="100%")


def anonymous_choice(checked: rx.Var, on_change: rx.EventHandler, field_id: str) -> rx.Component:
    """Learners only: staff always post under their name."""
    return rx.cond(~DiscussionState.is_staff_here, rx.el.label(
        rx.checkbox(id=field_id, checked=checked, on_change=on_change),
        rx.text("Post anonymously to other learners (staff still see your name)", size="2"),
        html_for=field_id, style={"display": "flex", "gap": "8px", "align_items": "center"}))


def post_actions(post: PostLine) -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.icon("arrow-big-up", size=16), post.upvotes,
            variant=rx.cond(post.voted, "solid", "soft"), size="1",
            disabled=post.mine | post.held,
            aria_pressed=rx.cond(post.voted, "true", "false"),
            aria_label=rx.cond(post.voted, "Remove upvote", "Upvote") + ", "
            + post.upvotes.to_string() + " upvotes",
            on_click=DiscussionState.vote(post.id, ~post.voted),
        ),
        rx.cond(post.can_accept, rx.button(rx.icon("circle-check", size=14), "Accept this answer",
                                           size="1", color_scheme="green", variant="soft",
                                           on_click=DiscussionState.accept(post.id))),
        rx.cond(post.can_endorse, rx.button(
            rx.icon("badge-check", size=14),
            rx.cond(post.endorsed, "Remove endorsement", "Endorse"), size="1", variant="soft",
            on_click=DiscussionState.endorse(post.id, ~post.endorsed))),
        rx.cond(post.can_edit, rx.button("Edit", size="1", variant="ghost",
                                         on_click=DiscussionState.start_edit(post.id))),
        rx.cond(post.can_delete, rx.button("Delete", size="1", variant="ghost", color_scheme="red",
                                           on_click=DiscussionState.delete_post(post.id))),
        rx.cond(post.can_flag, rx.button(rx.icon("flag", size=14), "Flag", size="1",
                                         variant="ghost", color_scheme="gray",
                                         aria_label="Flag this post for the moderators",
                                         on_click=DiscussionState.start_flag(post.id))),
        rx.cond(post.flagged, rx.text("You flagged this post", size="1", color_scheme="gray")),
        rx.cond(post.can_hide, rx.button(
            icon_either(post.hidden, "eye", "eye-off", size=14),
            rx.cond(post.hidden, "Show to learners", "Hide from learners"), size="1",
            variant="soft", color_scheme="orange",
            on_click=DiscussionState.hide_post(post.id, ~post.hidden))),
        spacing="2", wrap="wrap", align="center",
    )


def flag_form() -> rx.Component:
    return rx.vstack(
        labelled("Why should a moderator look at this post?", "flag-reason", rx.text_area(
            id="flag-reason", value=DiscussionState.flag_reason,
            on_change=DiscussionState.set_flag_reason, rows="2", width="100%",
            aria_describedby="flag-reason-error"), DiscussionState.flag_error,
            hint="Only the course's instructor and admins see your report."),
        rx.hstack(rx.spacer(),
                  rx.button("Cancel", variant="soft", color_scheme="gray", size="1",
                            on_click=DiscussionState.cancel_flag),
                  rx.button("Send report", size="1", on_click=DiscussionState.send_flag),
                  width="100%"),
        spacing="2", width="100%",
    )


def edit_form(post: PostLine) -> rx.Component:
    return rx.vstack(
        rx.cond(post.id == DiscussionState.opening.id, labelled(
            "Title", "edit-title", rx.input(id="edit-title", value=DiscussionState.edit_title,
                                            on_change=DiscussionState.set_edit_title, width="100%",
                                            aria_describedby="edit-title-error"), "")),
        labelled("Edit your post", "edit-body", rx.text_area(
            id="edit-body", value=DiscussionState.edit_body, on_change=DiscussionState.set_edit_body,
            rows="4", width="100%", aria_describedby="edit-body-error"),
            DiscussionState.edit_error),
        rx.hstack(rx.spacer(),
                  rx.button("Cancel", variant="soft", color_scheme="gray", size="1",
                            on_click=DiscussionState.cancel_edit),
                  rx.button("Save", size="1", on_click=DiscussionState.save_edit), width="100%"),
        spacing="2", width="100%",
    )


def hidden_post() -> rx.Component:
    """What a learner gets of a hidden post: the service sent neither its author nor its text."""
    return rx.el.article(
        rx.text(HIDDEN + ".", size="2", color_scheme="gray", font_style="italic"),
        aria_label="Hidden post",
        style={"padding": "12px", "border_radius": "10px", "width": "100%",
               "background": rx.color("gray", 2), "border": f"1px dashed {rx.color('gray', 6)}"},
    )


def post_view(post: PostLine) -> rx.Component:
    return rx.cond(post.hidden & ~DiscussionState.is_staff_here, hidden_post(), shown_post(post))


def author_face(post: PostLine) -> rx.Component:
    """Beside a post: its author's picture or initials, an image named for them; a plain mark,
    hidden from screen readers, where the viewer is not told who wrote it (or it was deleted)."""
    return rx.cond(
        post.initials != "",
        face(post.author, post.avatar, post.initials),
        rx.flex(rx.icon("user-round", size=16), aria_hidden="true", width="32px", height="32px",
                flex_shrink="0", align="center", justify="center", border_radius="100%",
                background=rx.color("gray", 4), color=rx.color("gray", 11)),
    )


def shown_post(post: PostLine) -> rx.Component:
    return rx.el.article(
        rx.hstack(author_face(post), post_content(post), spacing="3", align="start",
                  width="100%"),
        aria_label=rx.cond(post.deleted, "Deleted post", "Post by " + post.author),
        style={"padding": "12px", "border_radius": "10px", "width": "100%",
               "background": rx.cond(post.accepted, rx.color("green", 2), rx.color("gray", 2)),
               "border": rx.cond(post.accepted, f"1px solid {rx.color('green', 6)}",
                                 f"1px solid {rx.color('gray', 4)}")},
    )


def post_content(post: PostLine) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(rx.cond(post.deleted, "Deleted post", post.author), weight="bold", size="2"),
            rx.cond(post.staff, _badge("Staff", "violet", "graduation-cap")),
            rx.cond(post.accepted, _badge("Accepted answer", "green", "circle-check")),
            rx.cond(post.endorsed, _badge("Endorsed by staff", "blue", "badge-check")),
            rx.cond(post.hidden, _badge("Hidden from learners", "orange", "eye-off")),
            rx.cond(post.held, waiting_badge()),
            rx.text(post.when, rx.cond(post.edited, " · edited", ""), size="1",
                    color_scheme="gray"),
            spacing="2", wrap="wrap", align="center",
        ),
        rx.cond(
            post.deleted,
            rx.text("This post was deleted.", size="2", color_scheme="gray", font_style="italic"),
            rx.cond(DiscussionState.editing_id == post.id, edit_form(post),
                    rx.html(post.body_html, class_name="markdown")),
        ),
        rx.cond(~post.deleted, post_actions(post)),
        rx.cond(DiscussionState.flagging_id == post.id, flag_form()),
        # min_width: a wide code block scrolls in its own box instead of widening the post.
        spacing="2", flex="1", min_width="0",
    )


def new_replies_marker() -> rx.Component:
    return rx.cond(DiscussionState.new_replies > 0, rx.button(
        rx.icon("arrow-down", size=14),
        rx.cond(DiscussionState.new_replies == 1, "1 new reply",
                DiscussionState.new_replies.to_string() + " new replies"),
        variant="soft", width="100%", on_click=DiscussionState.show_new_replies,
        aria_live="polite",
    ))


def reply_form() -> rx.Component:
    return rx.vstack(
        labelled("Your reply", "discussion-reply", rx.text_area(
            id="discussion-reply", value=DiscussionState.reply_body,
            on_change=DiscussionState.set_reply_body, rows="3", width="100%",
            aria_describedby="discussion-reply-error"), DiscussionState.reply_error,
            hint="Markdown works. Mention the instructor with @name."),
        anonymous_choice(DiscussionState.reply_anonymous, DiscussionState.set_reply_anonymous,
                         "discussion-reply-anonymous"),
        rx.hstack(rx.spacer(), rx.button("Reply", on_click=DiscussionState.post_reply),
                  width="100%"),
        spacing="2", width="100%",
    )


def thread_detail() -> rx.Component:
    return rx.vstack(
        rx.button(rx.icon("arrow-left", size=14), "All threads", variant="ghost", size="1",
                  on_click=DiscussionState.close_thread),
        thread_badges(DiscussionState.opened),
        rx.hstack(
            rx.heading(DiscussionState.opened.title, size="5", as_="h3"),
            rx.spacer(),
            rx.button(icon_either(DiscussionState.following, "bell-off", "bell", size=14),
                      rx.cond(DiscussionState.following, "Unfollow", "Follow"), size="1",
                      variant="outline",
                      aria_pressed=rx.cond(DiscussionState.following, "true", "false"),
                      on_click=DiscussionState.set_following(~DiscussionState.following)),
            rx.cond(DiscussionState.is_staff_here & ~DiscussionState.opened.held, rx.button(
                icon_either(DiscussionState.opened.hidden, "eye", "eye-off", size=14),
                rx.cond(DiscussionState.opened.hidden, "Show thread to learners",
                        "Hide thread from learners"),
                size="1", variant="soft", color_scheme="orange",
                on_click=DiscussionState.hide_thread(~DiscussionState.opened.hidden))),
            width="100%", align="center", wrap="wrap",
        ),
        rx.cond(
            DiscussionState.opened.hidden & ~DiscussionState.is_staff_here,
            rx.text("A moderator hid this thread.", size="2", color_scheme="gray"),
            rx.fragment(
                post_view(DiscussionState.opening),
                rx.text(DiscussionState.replies_heading, size="2", weight="medium"),
                rx.foreach(DiscussionState.replies, post_view),
                new_replies_marker(),
                rx.cond(DiscussionState.opened.held,
                        rx.text("Replies open once a moderator approves this post.", size="2",
                                color_scheme="gray"),
                        rx.cond(~DiscussionState.opened.hidden, reply_form())),
            ),
        ),
        spacing="3", width="100%",
    )


def thread_list() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            # Short enough to show whole beside the sort on a phone.
            rx.input(placeholder="Search discussions", value=DiscussionState.search,
                     on_change=DiscussionState.set_search.debounce(300), type="search",
                     aria_label="Search discussions", flex="1"),
            rx.select.root(
                rx.select.trigger(aria_label="Sort threads"),
                rx.select.content(*[rx.select.item(label, value=value) for value, label in SORTS]),
                value=DiscussionState.sort, on_change=DiscussionState.set_sort,
            ),
            width="100%", spacing="2",
        ),
        rx.cond(
            DiscussionState.threads,
            rx.vstack(rx.foreach(DiscussionState.threads, thread_card), spacing="2", width="100%"),
            rx.text(rx.cond(DiscussionState.search != "", "Nothing matches your search.",
                            "No questions yet. Be the first to ask."),
                    size="2", color_scheme="gray"),
        ),
        spacing="3", width="100%",
    )


def discussion_section() -> rx.Component:
    """Under the lesson: nothing until the viewer is known to be admitted to the course."""
    return rx.cond(DiscussionState.loaded, rx.el.section(
        rx.card(rx.vstack(
            rx.hstack(
                rx.heading("Discussion", size="5", as_="h2", id="discussion-heading"),
                rx.spacer(),
                rx.cond(~DiscussionState.composing & (DiscussionState.open_id == 0), rx.button(
                    rx.icon("message-circle-question", size=16), "Ask a question",
                    on_click=DiscussionState.toggle_compose)),
                width="100%", align="center",
            ),
            rx.cond(DiscussionState.composing, compose_form()),
            rx.cond(DiscussionState.open_id != 0, thread_detail(), thread_list()),
            spacing="4", width="100%",
        ), width="100%", padding="24px"),
        aria_labelledby="discussion-heading", style={"width": "100%"},
    ))
