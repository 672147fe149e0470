"""Browser end-to-end tests: each path through the case's nodes, walked in chromium by the
people who walk it (the citizen, the window clerk, the reviewer, the department head)."""

import re

from django.utils import translation

from yimen.cases.choices import CaseStatus
from yimen.cases.workflow import TRANSITIONS

from ..cases.factories import PDF


def zh(text) -> str:
    """A source string (or a lazy one, like a choice's label) as the pages show it: in
    Chinese."""
    with translation.override("zh-hans"):
        return translation.gettext(text) if isinstance(text, str) else str(text)


def pdf_file(name: str = "材料.pdf") -> dict:
    """A small PDF for a file input."""
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


ALT = 1  # the modifier bit of the DevTools protocol


def press_accesskey(page, digit: str) -> None:
    """Alt+digit, the way chromium on Linux takes an accesskey. Playwright's keyboard sends
    no character while Alt is held, and chromium matches access keys on the character, so
    the key goes through the DevTools protocol like a real keystroke."""
    key = {"key": digit, "code": f"Digit{digit}", "windowsVirtualKeyCode": ord(digit)}
    session = page.context.new_cdp_session(page)
    try:
        session.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", "modifiers": ALT, **key})
        session.send(
            "Input.dispatchKeyEvent",
            {"type": "char", "modifiers": ALT, "text": digit, "unmodifiedText": digit, **key},
        )
        session.send("Input.dispatchKeyEvent", {"type": "keyUp", "modifiers": ALT, **key})
    finally:
        session.detach()


# --- the case page ------------------------------------------------------------------------------


def open_case(page, case) -> None:
    """Follow the link of the case's number on the page to the case page, loaded."""
    page.get_by_role("link", name=case.number).click()
    page.wait_for_url(re.compile(re.escape(case.get_absolute_url()) + "$"))


def action_form(page, action: str):
    """The form of `action` among the case page's actions, its folded card opened."""
    form = page.locator(f"form[action$='/act/{action}/']")
    folded = page.locator("details").filter(has=form)
    if folded.count():
        folded.locator("summary").click()
    return form


def take(page, action: str, becomes: CaseStatus, form=None) -> None:
    """Press the button of `action` (its form filled in already, if it has fields) and wait
    for the page saying it was done and the state the case is in now."""
    label = zh(TRANSITIONS[action].label)
    (form or action_form(page, action)).get_by_role("button", name=label).click()
    done = zh("Done: %(action)s. The case is now “%(status)s”.")
    page.get_by_role("alert").filter(
        has_text=done % {"action": label, "status": zh(becomes.label)}
    ).wait_for()
