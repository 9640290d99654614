"""The Evaluation tab of a pull request in Chromium, against the tests' model server: reached from
the review page by keyboard, base and head side by side with word diffs of prompts and answers,
each assertion's result, the summary, and the filters as plain links that work with JavaScript off;
no axe-core violation, no CSP violation, no sideways scroll on a 375 px phone."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import assert_accessible, assert_fits_width, screenshot
from tests.eval_scenario import eval_status, prompt_change, served
from tests.keyboard import activate, tab_to

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    with served(tmp_path_factory.mktemp("eval-web")) as (env, models):
        _, _, head = prompt_change(env, models, "judged", tmp_path_factory.mktemp("judged"))
        assert eval_status(env, "alice", "judged", head)["state"] == "failure"
        yield env


def test_the_tab_shows_cells_side_by_side_with_word_diffs(evaluated, open_page):
    page = open_page(evaluated.url)
    page.goto("/alice/judged/pulls/1")
    tab_to(page, "Evaluation", role="link")
    activate(page, "Enter")
    expect(page).to_have_url(f"{evaluated.url}/alice/judged/pulls/1/evaluation")
    expect(page.locator("#evaluation-tab")).to_have_attribute("aria-current", "page")
    summary = page.locator("#eval-summary")
    expect(summary.locator("tr", has_text="pass rate")).to_contain_text("75% (3 of 4)")
    expect(page.locator("#eval-check")).to_contain_text("eval: failure")
    expect(page.locator("#eval-check")).to_contain_text("regression: 'dogs stay plain'")

    dogs = page.locator(".eval-case", has=page.get_by_role("heading", name="dogs stay plain"))
    expect(dogs.locator(".badge")).to_have_text("regression")
    base, head = dogs.locator(".eval-side").nth(0), dogs.locator(".eval-side").nth(1)
    expect(base.locator("pre[aria-label='Base prompt']")).to_have_text("You answer.\n\nSummarise dogs.")
    expect(head.locator("pre[aria-label='Head prompt']")).to_have_text("You answer.\n\nSummarise dogs politely.")
    expect(head.locator("pre[aria-label='Head prompt'] ins")).to_have_text("politely")
    expect(base.locator("pre[aria-label='Base answer']")).to_have_text("SUMMARISE DOGS.")
    expect(base.locator("pre[aria-label='Base answer'] del")).to_have_count(0)  # nothing of it is gone
    expect(head.locator("pre[aria-label='Head answer'] ins")).to_have_text("POLITELY")
    expect(base.locator(".check .state").first).to_have_text("passed")
    expect(head.locator("ul.checks")).to_contain_text("not-contains 'POLITELY': found")
    expect(head).to_contain_text("5 tokens in, 3 out")
    birds = page.locator(".eval-case", has=page.get_by_role("heading", name="birds"))
    expect(birds.locator(".badge")).to_have_text("same")
    expect(birds.locator("ins, del")).to_have_count(0)
    screenshot(page, "evaluation-tab")
    assert_accessible(page)
    assert_fits_width(page)
    screenshot(page, "evaluation-tab-phone")


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_filters_are_plain_links(evaluated, open_page, js):
    page = open_page(evaluated.url, js=js)
    page.goto("/alice/judged/pulls/1/evaluation")
    names = page.locator(".eval-case h3")
    expect(names).to_have_count(4)
    for link, shown in (("regressions (1)", ["dogs stay plain"]), ("failing (1)", ["dogs stay plain"]),
                        ("changed (3)", ["cats", "dogs stay plain", "owls are polite"]), ("all (4)", None)):
        tab_to(page, link, role="link")
        activate(page, "Enter")
        expect(page.get_by_role("link", name=link)).to_have_attribute("aria-current", "page")
        if shown is None:
            expect(names).to_have_count(4)
        else:
            expect(names).to_have_count(len(shown))
            got = [n.split(" ")[0] for n in names.all_inner_texts()]
            assert sorted(got) == sorted(s.split(" ")[0] for s in shown)
    page.goto("/alice/judged/pulls/1/evaluation?show=nonsense")
    expect(page.locator("main")).to_contain_text("show must be one of all, changed, failing, regressions")


def test_the_template_page_shows_the_months_model_spend(evaluated, open_page):
    """The pushes' sandbox runs and the evaluation asked the model: the page's spend chart says
    what the analytics say, as a bar of that day and in words."""
    with evaluated.api() as c:
        analytics = c.get("/templates/alice/judged/analytics").json()
    total, days = analytics["cost_usd"], analytics["days"]
    shown = "$" + f"{total:.8f}".rstrip("0")
    assert total > 0 and days[-1]["cost_usd"] == total  # spent today (the fixture's, minutes ago)
    page = open_page(evaluated.url)
    page.goto("/alice/judged")
    expect(page.get_by_role("heading", name="Model spend last 30 days")).to_be_visible()
    chart = page.locator("svg.spend")
    expect(chart).to_have_attribute("aria-label", f"model spend per day, {days[0]['date']} to {days[-1]['date']}: {shown} in all, "
                                             f"at most {shown} a day")
    expect(chart.locator("rect")).to_have_count(1)
    expect(page.locator(".spend-total")).to_have_text(f"{shown} in all")
    assert_accessible(page)
    assert_fits_width(page)
