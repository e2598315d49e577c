"""/certificates — the learner's certificates; /verify and /verify/[code] — anyone checks one."""

from __future__ import annotations

import reflex as rx

from academy_app.components.layout import (
    empty_state,
    labelled,
    link_button,
    page,
    page_header,
    skeleton_block,
)
from academy_app.infra.credential_check import MAX_BYTES
from academy_app.state.certificates import (
    CREDENTIAL_UPLOAD_ID,
    CertificateLine,
    CertificatesState,
    VerifyState,
)


def certificate_status(status: rx.Var) -> rx.Component:
    return rx.match(
        status,
        ("ready", rx.badge(rx.icon("badge-check", size=12), "Valid", color_scheme="green")),
        ("drawing", rx.badge(rx.spinner(size="1"), "Being prepared", color_scheme="amber")),
        ("revoked", rx.badge(rx.icon("ban", size=12), "Revoked", color_scheme="red")),
        rx.badge(status),
    )


def certificate_card(line: CertificateLine) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.center(rx.icon("award", size=22, color=rx.color("accent", 11)),
                          background=rx.color("accent", 3), border_radius="full",
                          width="44px", height="44px", flex_shrink="0"),
                rx.vstack(rx.heading(line.course, size="4", as_="h2"),
                          rx.text("Issued " + line.issued, size="2", color_scheme="gray"),
                          spacing="1"),
                rx.spacer(),
                certificate_status(line.status),
                align="start",
                width="100%",
            ),
            rx.hstack(rx.text("Code", size="2", color_scheme="gray"), rx.code(line.code),
                      align="center", spacing="2"),
            rx.cond(line.status == "revoked",
                    rx.text("Reason: " + line.reason, size="2", color_scheme="red")),
            rx.hstack(
                rx.cond(line.status == "ready", rx.button(
                    # The browser's own navigation: the router's would look for a page there.
                    rx.link(rx.icon("download", size=16), "Download PDF", href=line.download_href,
                            download=True, reload_document=True, underline="none",
                            aria_label="Download the certificate for " + line.course),
                    as_child=True, size="2")),
                rx.cond(line.status != "revoked", rx.fragment(
                    open_badge_button(line.credential_href, "Download Open Badge (JSON)",
                                      "Download Open Badge (JSON) for " + line.course),
                    open_badge_button(line.badge_href, "Download badge (PNG)",
                                      "Download badge (PNG) for " + line.course, icon="image"))),
                link_button("Verification page", line.verify_href, size="2", variant="soft",
                            aria_label="Verification page of the certificate for " + line.course),
                rx.cond(line.status != "revoked", _share_buttons(line)),
                spacing="3",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def open_badge_button(href: rx.Var, text: str, label: rx.Var, icon: str = "file-json"
                      ) -> rx.Component:
    """The signed credential as a file (JSON, or baked into the badge image), for a wallet or
    anyone who verifies it offline."""
    return rx.button(
        # The browser's own navigation, as for the PDF: the file comes from an API route.
        rx.link(rx.icon(icon, size=16), text, href=href, download=True, reload_document=True,
                underline="none", aria_label=label),
        as_child=True, size="2", variant="soft")


def _share_buttons(line: CertificateLine) -> rx.Component:
    """Sharing a valid certificate: onto a LinkedIn profile, or its verification link anywhere."""
    return rx.fragment(
        rx.button(
            # Lucide has no brand icons any more: the arrow says the link leaves the site.
            rx.link(rx.icon("external-link", size=16), "Add to LinkedIn profile",
                    href=line.linkedin_href, is_external=True, rel="noopener noreferrer",
                    underline="none", aria_label="Add to LinkedIn profile: " + line.course),
            as_child=True, size="2", variant="soft"),
        rx.button(rx.icon("copy", size=16), "Copy link", size="2", variant="soft",
                  type="button",
                  on_click=[rx.set_clipboard(line.verify_url), rx.toast.success("Link copied")],
                  aria_label="Copy link to the verification page of " + line.course),
    )


def certificates_page() -> rx.Component:
    return page(
        page_header("My certificates",
                    "Proof of what you completed. Anyone can check one with its code."),
        rx.cond(
            CertificatesState.loading,
            rx.vstack(skeleton_block("150px"), width="100%", aria_busy="true",
                      aria_label="Loading your certificates"),
            rx.cond(
                CertificatesState.rows.length() > 0,
                rx.grid(rx.foreach(CertificatesState.rows, certificate_card),
                        columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%"),
                empty_state("award", "No certificates yet",
                            "Complete every lesson of a course and its certificate appears here.",
                            link_button("My learning", "/dashboard")),
            ),
        ),
    )


def _detail(label: str, value: rx.Var) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def _details() -> rx.Component:
    return rx.data_list.root(
        _detail("Awarded to", VerifyState.student),
        _detail("Course", VerifyState.course),
        _detail("Instructor", VerifyState.instructor),
        _detail("Issued", VerifyState.issued),
        _detail("Code", rx.code(VerifyState.shown_code)),
        orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
    )


def verification_result() -> rx.Component:
    return rx.match(
        VerifyState.status,
        ("valid", rx.card(rx.vstack(
            rx.callout("This certificate is valid.", icon="badge-check", color_scheme="green",
                       size="2", role="status", width="100%"),
            _details(),
            open_badge_button(VerifyState.credential_href, "Download Open Badge (JSON)",
                              "Download Open Badge (JSON) of certificate " + VerifyState.shown_code),
            spacing="4", width="100%"), width="100%")),
        ("revoked", rx.card(rx.vstack(
            rx.callout("This certificate was revoked on " + VerifyState.revoked_on
                       + ". It no longer certifies this course.", icon="ban", color_scheme="red",
                       size="2",
                       role="status", width="100%"),
            _details(), spacing="4", width="100%"), width="100%")),
        rx.callout("No certificate has this code. Check it for typos: it is printed under the "
                   "QR code, like ABCD-2345-EFGH-6789.", icon="circle-help", color_scheme="amber",
                   high_contrast=True, size="2", role="status", width="100%"),
    )


def credential_file_check() -> rx.Component:
    """Or check the Open Badge file itself: its signature, key, dates and revocation."""
    return rx.card(rx.vstack(
        rx.heading("Check an Open Badge file", size="3", as_="h2"),
        rx.text("The credential (JSON) or badge (PNG) a learner sent you.", size="2",
                color_scheme="gray"),
        rx.hstack(
            # The dropzone's file input takes no attributes of its own: the label around it
            # names it (it is the label's first form control).
            rx.el.label(
                rx.text("Open Badge file", size="2", weight="medium"),
                rx.upload.root(
                    rx.button(rx.icon("paperclip", size=14), "Choose file", variant="outline",
                              type="button", aria_label="Choose file: an Open Badge, JSON or PNG"),
                    id=CREDENTIAL_UPLOAD_ID,
                    accept={"application/json": [".json"], "application/ld+json": [".json"],
                            "image/png": [".png"]},
                    max_files=1, max_size=MAX_BYTES, multiple=False, no_drag=True,
                    # Rejected files stay in the browser (sent along, a big one would fill the
                    # socket).
                    on_drop_rejected=lambda _rejected: VerifyState.reject_file(),
                ),
                style={"display": "flex", "align_items": "center", "gap": "12px"},
            ),
            rx.foreach(rx.selected_files(CREDENTIAL_UPLOAD_ID),
                       lambda name: rx.text(name, size="2", color_scheme="gray")),
            rx.button("Verify file", type="button",
                      on_click=VerifyState.check_file(
                          rx.upload_files(upload_id=CREDENTIAL_UPLOAD_ID))),
            align="center", spacing="3", wrap="wrap",
        ),
        rx.cond(VerifyState.file_verdict != "", rx.cond(
            VerifyState.file_valid,
            rx.callout(VerifyState.file_verdict, icon="badge-check", color_scheme="green",
                       size="2", role="status", width="100%"),
            rx.callout(VerifyState.file_verdict, icon="ban", color_scheme="red", size="2",
                       role="status", width="100%"))),
        spacing="3", width="100%",
    ), width="100%")


def verify_page() -> rx.Component:
    return page(
        page_header("Verify a certificate",
                    "Check that an Academy certificate is genuine and still valid."),
        rx.vstack(
            rx.form(
                rx.hstack(
                    labelled("Certificate code", "certificate-code", rx.input(
                        id="certificate-code", value=VerifyState.typed_code,
                        on_change=VerifyState.set_typed_code, placeholder="ABCD-2345-EFGH-6789",
                        size="3", width="100%", aria_describedby="certificate-code-error",
                        auto_complete="off"), VerifyState.error),
                    rx.button("Check", type="submit", size="3"),
                    align="end",
                    width="100%",
                ),
                on_submit=VerifyState.check,
                width="100%",
            ),
            rx.cond(VerifyState.checked, verification_result()),
            credential_file_check(),
            spacing="5",
            width="100%",
        ),
        width="760px",
    )
