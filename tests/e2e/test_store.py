"""The store in a real browser (issue 18): what a learner pays and can come back to, the codes an
instructor sees, and a catalog whose search and filters live in the address."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_accessibility import violations
from tests.e2e.test_payments import logged_in, start_checkout
from tests.e2e.test_student_journey import sign_up

pytestmark = pytest.mark.e2e
ORDER_NUMBER = re.compile(r"^Order #\d+$")


def test_a_discounted_order_can_be_found_again_and_becomes_a_printable_receipt(open_page):
    student = open_page()
    sign_up(student, "Order Learner")
    expect(student).to_have_url(re.compile(r"/dashboard/?$"))
    start_checkout(student, "accessible-interfaces")  # $39
    student.get_by_label("Coupon code").fill("halfprice")  # site-wide, 50 %
    student.get_by_role("button", name="Apply").click()
    expect(student.get_by_text("Coupon HALFPRICE")).to_be_visible()
    student.get_by_label("Payment reference").fill("TRX-STORE-0001")
    student.get_by_role("button", name="Submit payment").click()

    pending = student.get_by_role("status").filter(has_text="Payment submitted")
    expect(pending).to_contain_text("$19.50 to pay")  # the amount after the coupon, not $39
    pending.get_by_role("link", name="View your order").click()
    order_heading = student.get_by_role("heading", name=ORDER_NUMBER, level=1)
    expect(order_heading).to_be_visible()
    order_url, number = student.url, order_heading.inner_text()
    expect(student.get_by_role("heading", name="Order summary")).to_be_visible()
    details = student.get_by_role("main")
    for text in ("Accessible Interfaces", "Amount to pay", "$19.50", "HALFPRICE",
                 "TRX-STORE-0001", "Waiting for review"):
        expect(details).to_contain_text(text)
    expect(student.get_by_role("button", name="Print receipt")).to_have_count(0)
    # The checkout's toasts go first (test_accessibility checks toasts whole, in both themes).
    expect(student.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    assert violations(student) == []

    # The account page lists every purchase, each linking to its order.
    student.goto("/account")
    history = student.get_by_role("heading", name="Purchase history")
    expect(history).to_be_visible()
    student.get_by_role("link", name=number).click()
    expect(student).to_have_url(order_url)

    # Someone else gets the answer a missing order gets.
    stranger = open_page()
    sign_up(stranger, "Curious Learner")
    expect(stranger).to_have_url(re.compile(r"/dashboard/?$"))
    stranger.goto(order_url)
    expect(stranger.get_by_role("heading", name="Order not found")).to_be_visible()
    expect(stranger.get_by_text("TRX-STORE-0001")).to_have_count(0)

    instructor = logged_in(open_page, "instructor@academy.test")
    instructor.goto("/admin/payments")
    row = instructor.get_by_role("row").filter(has_text="TRX-STORE-0001")
    row.get_by_role("button", name="Approve payment of Order Learner").click()
    expect(instructor.get_by_text("Payment approved")).to_be_visible()

    # The open order page hears the approval and becomes the receipt (how fast is
    # test_payments.py's claim; this one waits as long as the actions do on a busy machine).
    expect(student.get_by_role("heading", name="Receipt")).to_be_visible(timeout=15_000)
    expect(details).to_contain_text("Amount paid")
    expect(details).to_contain_text("Reviewed")
    # The approval's toast is the bell's (its contrast is the layout's); the receipt is checked.
    expect(student.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    assert violations(student) == []
    student.evaluate("window.print = () => { window.printed = true; }")
    student.get_by_role("button", name="Print receipt").click()
    assert student.evaluate("window.printed") is True


def test_an_instructor_sees_site_wide_codes_read_only(open_page):
    instructor = logged_in(open_page, "instructor@academy.test")
    instructor.goto("/admin/coupons")
    row = instructor.get_by_role("row").filter(has_text="HALFPRICE")
    expect(row).to_contain_text("Site-wide (managed by admins)")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(instructor.get_by_text("No coupons yet")).to_have_count(0)

    admin = logged_in(open_page, "admin@academy.test")
    admin.goto("/admin/coupons")
    expect(admin.get_by_role("row").filter(has_text="HALFPRICE")
           .get_by_role("button", name="End now HALFPRICE")).to_be_visible()


def test_catalog_search_and_filters_live_in_the_address(page: Page):
    page.goto("/courses")
    results = page.get_by_role("status").filter(has_text="courses")
    expect(results).to_have_text(re.compile(r"^\d+ courses$"))
    everything = results.inner_text()  # the demo's six, and what other tests of the run published
    page.get_by_role("combobox", name="Level").click()
    beginner = page.get_by_role("option", name=re.compile(r"^Beginner \(\d+\)$"))
    beginners = int(re.findall(r"\d+", beginner.inner_text())[0])
    assert beginners >= 3  # the demo's three at least
    beginner.click()
    expect(page).to_have_url(re.compile(r"/courses/?\?level=beginner$"))
    expect(results).to_have_text(f"{beginners} courses")
    page.get_by_label("Search courses").fill("sql")
    expect(page).to_have_url(re.compile(r"/courses/?\?q=sql&level=beginner$"))
    expect(page.get_by_role("status").filter(has_text="course")).to_have_text("1 course")
    card = page.get_by_role("link", name="SQL for Analysts")
    expect(card.locator("mark")).to_have_text("SQL")  # the match, marked in the title

    page.reload()  # a reload (or a shared link) keeps all of it
    expect(page.get_by_label("Search courses")).to_have_value("sql")
    expect(page.get_by_role("combobox", name="Level")).to_have_text("Beginner (1)")
    expect(page.get_by_role("link", name="SQL for Analysts")).to_be_visible()
    assert violations(page) == []

    page.go_back()  # undoes the search, then the filter
    expect(page).to_have_url(re.compile(r"/courses/?\?level=beginner$"))
    expect(page.get_by_label("Search courses")).to_have_value("")
    expect(results).to_have_text(f"{beginners} courses")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/courses/?$"))
    expect(results).to_have_text(everything)


def test_a_search_for_markup_shows_it_as_text_and_runs_nothing(page: Page):
    hostile = "<img src=x onerror=window.injected=1><script>window.injected=1</script>"
    page.goto("/courses")
    page.get_by_label("Search courses").fill(hostile)
    expect(page.get_by_role("heading", name="No courses match")).to_be_visible()
    # The results come before the address does (the redirect follows the delta that shows them):
    # a reload keeps the search once the address holds it.
    expect(page).to_have_url(re.compile(r"/courses/?\?q=%3Cimg"))
    page.reload()
    expect(page.get_by_label("Search courses")).to_have_value(hostile)
    expect(page.get_by_role("heading", name="No courses match")).to_be_visible()
    assert page.evaluate("window.injected") is None
    assert page.locator("main img, main script").count() == 0
