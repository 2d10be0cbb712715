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


def _shown(table):
    return (
        [[str(c) for c in row] for row in table.cells],
        [str(c) for c in table.row_totals],
        [str(c) for c in table.column_totals],
        str(table.total),
    )


def test_a_table_hides_a_second_cell_in_each_row_and_column_that_has_one():
    # given two areas over three weeks, one count of 2
    counts = [[2, 10, 20], [30, 40, 50]]
    # when it is published with all its totals
    cells, rows, columns, total = _shown(suppression.table(counts))
    # then the row of the 2 hides its smallest other cell (10), and the columns of both hide a
    # cell of the other row, so neither can be recovered from a total
    assert cells == [["<5", "<5", "20"], ["<5", "<5", "50"]]
    assert rows == ["32", "120"]
    assert columns == ["32", "50", "70"]
    assert total == "152"
    # and every shown total minus the shown cells leaves at least two unknowns
    t = suppression.table(counts)
    for row in t.cells:
        assert sum(c.suppressed for c in row) in (0, 2, 3)
    for j in range(3):
        assert sum(t.cells[i][j].suppressed for i in range(2)) in (0, 2)


def test_small_totals_are_hidden_and_protected_against_the_grand_total():
    # given one area whose whole row is small
    t = suppression.table([[1, 1, 1], [20, 30, 40]])
    cells, rows, columns, total = _shown(t)
    assert rows[0] == "<5"  # 3 events in all
    assert rows[1] == "<5"  # hidden too: else 93 - 90 would reveal the 3
    assert total == "93"
    assert cells[0] == ["<5", "<5", "<5"]
    assert columns == ["21", "31", "41"]
    # the columns are shown, so each column hides a second cell
    assert [sum(t.cells[i][j].suppressed for i in range(2)) for j in range(3)] == [2, 2, 2]


def test_a_table_without_small_counts_is_shown_whole():
    cells, rows, columns, total = _shown(suppression.table([[5, 6], [7, 0]]))
    assert cells == [["5", "6"], ["7", "0"]] and rows == ["11", "7"] and total == "18"
    assert columns == ["12", "6"]
