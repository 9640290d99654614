"""The model spend chart (api/web/chart.py): a bar per day that spent, its figure in each bar's
title and the total in the label and in words; a line of text when nothing was spent."""
from __future__ import annotations

from api.web.chart import spend_svg, usd


def test_amounts_read_as_dollars_to_the_places_the_api_keeps():
    assert [usd(v) for v in (0.0, 0.0138, 0.00012345678, 1.5, 12345.678)] == \
        ["$0", "$0.0138", "$0.00012346", "$1.50", "$12,345.68"]


def test_a_bar_per_day_that_spent_and_the_total():
    svg = str(spend_svg([("2026-12-01", 0.0), ("2026-12-02", 0.01), ("2026-12-03", 0.0038)]))
    assert svg.count("<rect") == 2
    assert "<title>2026-12-02: $0.01</title>" in svg and "<title>2026-12-03: $0.0038</title>" in svg
    assert 'aria-label="model spend per day, 2026-12-01 to 2026-12-03: $0.0138 in all, at most $0.01 a day"' in svg
    assert svg.endswith('<p class="spend-total">$0.0138 in all</p>')
    tallest = svg.split("<rect")[1]
    assert 'height="78.0"' in tallest  # the largest day fills the chart


def test_nothing_spent_is_said_in_words():
    assert str(spend_svg([("2026-12-01", 0.0), ("2026-12-02", 0.0)])) == \
        '<p class="muted spend">No model spend from 2026-12-01 to 2026-12-02.</p>'
    assert "<svg" not in str(spend_svg([]))
