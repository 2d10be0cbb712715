from __future__ import annotations

from harbour.core import suppression


def test_small_counts_are_hidden_and_zero_is_shown():
    assert [str(suppression.cell(n)) for n in (0, 1, 4, 5, 120)] == ["0", "<5", "<5", "5", "120"]
    assert suppression.cell(3).shown is None and suppression.cell(7).shown == 7


def test_a_row_with_one_small_cell_hides_a_second_so_the_total_cannot_reveal_it():
    cells = suppression.row([3, 40, 12, 0])
    assert [str(c) for c in cells] == ["<5", "40", "<5", "0"]  # 12 is the smallest other
    assert [str(c) for c in suppression.row([2, 3, 50])] == ["<5", "<5", "50"]  # already two
    assert [str(c) for c in suppression.row([20, 30])] == ["20", "30"]


def test_shares_need_a_large_enough_denominator_and_no_small_part():
    assert suppression.share(10, 40) == 0.25
    assert suppression.share(0, 40) == 0.0
    assert suppression.share(40, 40) == 1.0
    assert suppression.share(3, 40) is None  # would reveal 3
    assert suppression.share(38, 40) is None  # would reveal the 2 without it
    assert suppression.share(2, 4) is None
