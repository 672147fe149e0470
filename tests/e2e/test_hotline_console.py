"""The 12345 intake console's script, in the browser: the answer follows the article picked
until the agent edits it (and "Clear" takes it back), a section holding an error shows
whatever step is chosen, a refusal of the side panel (400) replaces its stale suggestions,
an expired session takes the page to the login page, Ctrl+Enter saves from the form only,
and an access key reaches the side panel."""

import re

from django.urls import reverse

from tests.hotline import factories as hf
from tests.org.factories import DepartmentFactory

CONTENT = "请问公积金怎么提取，租房能提吗"
ALT = 1  # the modifier bit of the DevTools protocol


def press_accesskey(page, letter: str) -> None:
    """Alt+letter the way chromium on Linux takes an accesskey (see tests.e2e's helper for
    digits: the key goes through the DevTools protocol like a real keystroke)."""
    key = {
        "key": letter,
        "code": f"Key{letter.upper()}",
        "windowsVirtualKeyCode": ord(letter.upper()),
    }
    session = page.context.new_cdp_session(page)
    try:
        session.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", "modifiers": ALT, **key})
        session.send(
            "Input.dispatchKeyEvent",
            {"type": "char", "modifiers": ALT, "text": letter, "unmodifiedText": letter, **key},
        )
        session.send("Input.dispatchKeyEvent", {"type": "keyUp", "modifiers": ALT, **key})
    finally:
        session.detach()


def open_console(page, login):
    agent = hf.agent()
    leaf = hf.leaf(unit=DepartmentFactory(name="住房公积金管理中心"))
    login(agent)
    page.goto(reverse("hotline:console"))
    page.locator("#intake-form").wait_for()
    return agent, leaf


def type_content(page, text: str = CONTENT) -> None:
    page.locator("#id_content").fill(text)
    page.locator("#suggestions .kb-hit, #suggestions [role=alert]").first.wait_for()


def test_the_answer_follows_the_article_picked(page, login):
    first = hf.article(title="公积金提取的条件", answer="租房提取可在网上办理。")
    second = hf.article(title="公积金提取的材料", answer="带身份证和租房合同。")
    open_console(page, login)
    type_content(page)
    answer, chosen = page.locator("#id_answer"), page.locator("#article-title")

    def pick(article):
        page.locator(f'button[data-article="{article.public_id}"]').click()

    # picking A then B: B's answer, B cited
    pick(first)
    assert answer.input_value() == first.answer
    pick(second)
    assert answer.input_value() == second.answer
    assert chosen.inner_text() == second.title
    # "Clear" takes back the answer it put there
    page.locator("#article-clear").click()
    assert answer.input_value() == ""
    assert page.locator("#id_article").input_value() == ""
    # an answer the agent edited stays, whatever is picked or cleared
    pick(first)
    answer.fill(first.answer + "另外请携带银行卡。")
    pick(second)
    assert answer.input_value() == first.answer + "另外请携带银行卡。"
    assert chosen.inner_text() == second.title
    page.locator("#article-clear").click()
    assert answer.input_value() == first.answer + "另外请携带银行卡。"


def test_a_section_with_an_error_shows_whatever_step_is_chosen(page, login):
    open_console(page, login)
    link = page.locator("#step-link")
    assert link.is_hidden()  # "register only" is chosen
    page.evaluate(
        """() => {
            const error = document.createElement("div");
            error.className = "invalid-feedback d-block";
            error.textContent = "wrong";
            document.getElementById("step-link").appendChild(error);
            document.getElementById("id_next_step_0").dispatchEvent(
                new Event("change", {bubbles: true}));
        }"""
    )
    assert link.is_visible()
    assert page.locator("#step-dispatch").is_hidden()


def test_a_left_over_master_does_not_block_register_only(page, login):
    # given an earlier order from the same number, linked from the panel, then "register
    # only" chosen and the master number made wrong
    agent, leaf = open_console(page, login)
    earlier = hf.order(by=agent, category=leaf, caller_phone="13800138000")
    page.locator("#id_caller_phone").fill("13800138000")
    page.locator("#id_order_type").select_option("complaint")
    page.locator("#id_content").fill("季华路路灯不亮")
    page.locator(f'button[data-number="{earlier.number}"]').click()
    assert page.locator("#id_master").input_value() == earlier.number
    page.locator("#id_next_step_0").check()
    page.locator("#id_master").evaluate("input => { input.value = 'GD0000000000001'; }")
    # when saved, the order is registered
    page.locator("#intake-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/hotline/orders/GD\d+/$"))
    assert earlier.number not in page.url


def test_a_refusal_replaces_the_stale_suggestions(page, login):
    hf.article(title="公积金提取的条件")
    open_console(page, login)
    type_content(page)
    assert page.locator("#suggestions .kb-hit").count() >= 1
    # content longer than the panel takes: the server refuses it (400)
    page.locator("#id_content").evaluate(
        "(area) => { area.value = 'x'.repeat(4001);"
        " area.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    page.locator("#suggestions [role=alert]").wait_for()
    assert page.locator("#suggestions .kb-hit").count() == 0


def test_an_expired_session_goes_to_the_login_page(page, login):
    open_console(page, login)
    page.context.clear_cookies()
    page.locator("#id_content").fill("路灯不亮")
    page.wait_for_url(re.compile(re.escape(reverse("accounts:login")) + r".*next="))
    assert "console" in page.url
    assert page.locator("#intake-form").count() == 0


def test_ctrl_enter_saves_from_the_form_only(page, login):
    open_console(page, login)
    page.locator("#id_caller_phone").fill("13800138000")
    page.locator("#id_order_type").select_option("complaint")
    page.locator("#id_content").fill("季华路路灯不亮")
    # from the side panel: nothing happens
    page.locator("#side-panel").focus()
    page.keyboard.press("Control+Enter")
    page.wait_for_timeout(300)
    assert page.url.endswith(reverse("hotline:console"))
    # from the form: saved
    page.locator("#id_content").focus()
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/hotline/orders/GD\d+/$"))


def test_an_access_key_reaches_the_side_panel(page, login):
    open_console(page, login)
    press_accesskey(page, "g")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'side-panel'")
