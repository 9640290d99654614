"""Using a page as a keyboard-only person does: Tab to a control by its accessible name, press
Enter or Space, type into the focused field; every place focus stops must be visible (on screen,
not hidden, with a focus ring). Works with JavaScript on or off (the checks are evaluated through
the DevTools protocol, not by the page's own script)."""
from __future__ import annotations

import re

from playwright.sync_api import Locator, Page

# Roles that take focus by Tab on these pages (links, form controls).
FOCUSABLE_ROLES = ("link", "button", "textbox", "searchbox", "combobox", "listbox", "checkbox", "radio", "spinbutton")

_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const label = el.labels && el.labels.length ? el.labels[0].innerText : '';
  const name = (el.getAttribute('aria-label') || label || el.innerText || el.value || el.getAttribute('name') || '')
    .trim().replace(/\\s+/g, ' ').slice(0, 60);
  const r = el.getBoundingClientRect();
  const s = getComputedStyle(el);
  const onScreen = r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 &&
                   r.top < innerHeight && r.left < innerWidth;
  const shown = s.visibility !== 'hidden' && parseFloat(s.opacity) > 0;
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  return {what: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${name}"`, onScreen, shown, ring,
          editable: el.isContentEditable || el.matches('input:not([type=hidden]):not([type=checkbox]):not([type=radio])' +
                    ':not([type=submit]):not([type=button]):not([type=reset]), textarea, select')};
}"""


def focused(page: Page) -> dict | None:
    """The focused element ({what, onScreen, shown, ring, editable}), None when nothing is."""
    return page.evaluate(_FOCUS)


def assert_focus_visible(page: Page) -> str:
    """The focused element is on screen, not hidden, and shows a focus indicator; its description."""
    now = focused(page)
    assert now is not None, f"nothing has focus on {page.url}"
    problems = [why for ok, why in ((now["onScreen"], "is off screen"), (now["shown"], "is hidden"),
                                    (now["ring"], "shows no focus indicator (outline or box-shadow)")) if not ok]
    assert not problems, f"focused {now['what']} on {page.url} {' and '.join(problems)}"
    return now["what"]


def _target(page: Page, name: str | re.Pattern[str], role: str | None) -> Locator:
    if role is not None:
        return page.get_by_role(role, name=name, exact=isinstance(name, str))
    found = page.get_by_role(FOCUSABLE_ROLES[0], name=name, exact=isinstance(name, str))
    for other in FOCUSABLE_ROLES[1:]:
        found = found.or_(page.get_by_role(other, name=name, exact=isinstance(name, str)))
    return found


def tab_to(page: Page, name: str | re.Pattern[str], *, role: str | None = None, limit: int = 80,
           backwards: bool = False) -> list[str]:
    """Press Tab (Shift+Tab with `backwards`) until the control named `name` (its accessible name:
    label, text or aria-label; `role` narrows it) has focus, checking at every stop that focus is
    visible. Returns the stops, in order. Fails, naming them, if focus never gets there."""
    target = _target(page, name, role)
    stops: list[str] = []
    left_page = 0
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if focused(page) is None:  # past the last control: focus went to the browser's own UI
            left_page += 1
            if left_page == 2:
                break
            continue
        stops.append(assert_focus_visible(page))
        if target.evaluate_all("(els) => els.includes(document.activeElement)"):
            return stops
    raise AssertionError(f"Tab never reached {name!r} on {page.url}; focus stopped at: {' → '.join(stops) or 'nothing'}")


def activate(page: Page, key: str = "Enter") -> None:
    """Press Enter (links, buttons, submitting a field's form) or Space (buttons, checkboxes, radios)
    on the focused control."""
    assert_focus_visible(page)
    page.keyboard.press(key)


def type_here(page: Page, text: str) -> None:
    """Type into the focused field, key by key, as a person would."""
    now = focused(page)
    assert now is not None and now["editable"], f"focus is not on a field on {page.url}: {now and now['what']}"
    page.keyboard.type(text)


def fill_by_keyboard(page: Page, label: str | re.Pattern[str], text: str) -> None:
    """Tab to the field labelled `label` and type `text` into it."""
    tab_to(page, label)
    type_here(page, text)
