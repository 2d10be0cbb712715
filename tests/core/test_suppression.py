from __future__ import annotations

from harbour.core import suppression


def test_small_counts_are_hidden_and_zero_is_shown():
    assert [str(suppression.cell(n)) for n in (0, 1, 4, 5, 120)] == ["0", "<5", "<5", "5", "120"]
    assert suppression.cell(3).shown is None and suppression.cell(7).shown == 7


def test_a_row_with_one_small_cell_hides_a_second_so_the_total_cannot_reveal_it():
    cells = suppression.row([3, 40, 12, 0])
    assert [str(c) for c in cells] == ["<5", "40", "x", "0"]  # 12 is the smallest other
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
    assert cells == [["<5", "x", "20"], ["x", "x", "50"]]
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
    assert rows[1] == "x"  # hidden too: else 93 - 90 would reveal the 3
    assert total == "93"
    assert cells[0] == ["<5", "<5", "<5"]
    assert columns == ["21", "31", "41"]
    # the columns are shown, so each column hides a second cell
    assert [sum(t.cells[i][j].suppressed for i in range(2)) for j in range(3)] == [2, 2, 2]


def test_a_table_without_small_counts_is_shown_whole():
    cells, rows, columns, total = _shown(suppression.table([[5, 6], [7, 0]]))
    assert cells == [["5", "6"], ["7", "0"]] and rows == ["11", "7"] and total == "18"
    assert columns == ["12", "6"]


def test_cells_hidden_to_protect_another_are_marked_x_not_small():
    cells = suppression.row([3, 40, 14, 0])
    assert [str(c) for c in cells] == ["<5", "40", "x", "0"]
    assert [c.reason for c in cells] == ["small", "", "complement", ""]
    assert [c.mark for c in cells] == ["<5", "", "x", ""]
    assert cells[2].suppressed and cells[2].shown is None and cells[2].value == 14
    # the old constructor still works: Cell(value, True) gets the right reason
    assert str(suppression.Cell(14, True)) == "x" and str(suppression.Cell(3, True)) == "<5"
    assert str(suppression.Cell(14, False)) == "14"


def test_linked_protects_a_small_complement_that_is_never_published():
    # naloxone used 48, reversals 46: the 2 used without a reversal is never shown, but
    # 48 - 46 would reveal it, so "reversed" is hidden as a complement
    cells = suppression.linked(
        {"used": 48, "reversed": 46, "not_reversed": 2},
        [("used", ["reversed", "not_reversed"])],
        published={"used", "reversed"},
    )
    assert (str(cells["used"]), str(cells["reversed"])) == ("48", "x")
    assert cells["not_reversed"].reason == "small"


def test_linked_prefers_an_unpublished_key_as_the_complement():
    # reversals 3 of 48 used: hiding the unpublished 45 protects the 3 at no cost
    cells = suppression.linked(
        {"used": 48, "reversed": 3, "not_reversed": 45},
        [("used", ["reversed", "not_reversed"])],
        published={"used", "reversed"},
    )
    assert (str(cells["used"]), str(cells["reversed"])) == ("48", "<5")


def test_linked_new_and_returning_beside_their_total():
    # 20 people: 17 new, 3 returning; the 17 is hidden too, else 20 - 17 = 3
    cells = suppression.linked(
        {"all": 20, "new": 17, "returning": 3}, [("all", ["new", "returning"])]
    )
    assert [str(cells[k]) for k in ("all", "new", "returning")] == ["20", "x", "<5"]
    # a total hidden as a complement elsewhere (30, protecting the 3 in 33) whose parts were all
    # shown hides one of them too, else 12 + 18 would give the 30 and 33 - 30 the 3
    cells = suppression.linked(
        {"a": 30, "a1": 12, "a2": 18, "t": 33, "b": 3},
        [("a", ["a1", "a2"]), ("t", ["a", "b"])],
    )
    assert [str(cells[k]) for k in ("t", "a", "b", "a1", "a2")] == ["33", "x", "<5", "x", "18"]


def test_linked_hides_the_total_when_no_other_part_can_be_hidden():
    cells = suppression.linked({"t": 7, "p": 3, "q": 4, "z": 0}, [("t", ["p", "q", "z"])])
    assert [str(cells[k]) for k in ("t", "p", "q", "z")] == ["7", "<5", "<5", "0"]
    # periods: two disjoint months and their total; one month's 2 hides the other month
    cells = suppression.linked({"total": 60, "m1": 2, "m2": 58}, [("total", ["m1", "m2"])])
    assert [str(cells[k]) for k in ("total", "m1", "m2")] == ["60", "<5", "x"]


def test_linked_refuses_a_group_whose_total_is_not_the_sum():
    import pytest

    with pytest.raises(ValueError, match="not the sum"):
        suppression.linked({"t": 10, "a": 3, "b": 4}, [("t", ["a", "b"])])
    with pytest.raises(ValueError, match="unknown"):
        suppression.linked({"t": 10}, [("t", ["a"])])


def test_linked_never_hides_a_count_someone_already_knows():
    # two organizations: A's 17 is in A's own version to share, B's 3 is small; hiding A's
    # count in the public figure would protect nothing, so the total is hidden instead
    cells = suppression.linked(
        {"used": 20, "used@a": 17, "used@b": 3},
        [("used", ["used@a", "used@b"])],
        published={"used"},
        known={"used@a", "used@b"},
    )
    assert (str(cells["used"]), cells["used@a"].suppressed) == ("x", False)
