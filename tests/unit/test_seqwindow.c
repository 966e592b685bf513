/* lib/fleet/seqwindow.c: duplicates, gaps and restarts of a seq stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "seqwindow.h"

static void test_in_order_and_duplicates(void **state)
{
    scn_seqwindow w = {0};
    uint64_t gap = 99;

    (void)state;
    for (uint64_t s = 5; s < 10; s++) {
        assert_int_equal(scn__seqwindow_add(&w, s, &gap), SCN_SEQ_NEW);
        assert_int_equal(gap, 0);
    }
    /* A resend after a reconnect: the last few again, then new ones. */
    for (uint64_t s = 7; s < 10; s++)
        assert_int_equal(scn__seqwindow_add(&w, s, &gap), SCN_SEQ_DUPLICATE);
    assert_int_equal(scn__seqwindow_add(&w, 10, &gap), SCN_SEQ_NEW);
    assert_int_equal(w.newest, 10);
}

static void test_gap_then_late_arrival(void **state)
{
    scn_seqwindow w = {0};
    uint64_t gap;

    (void)state;
    assert_int_equal(scn__seqwindow_add(&w, 1, &gap), SCN_SEQ_NEW);
    assert_int_equal(scn__seqwindow_add(&w, 5, &gap), SCN_SEQ_NEW);
    assert_int_equal(gap, 3);
    assert_int_equal(scn__seqwindow_add(&w, 3, &gap), SCN_SEQ_LATE);
    assert_int_equal(gap, 0);
    assert_int_equal(scn__seqwindow_add(&w, 3, NULL), SCN_SEQ_DUPLICATE);
    assert_int_equal(scn__seqwindow_add(&w, 2, NULL), SCN_SEQ_LATE);
    assert_int_equal(scn__seqwindow_add(&w, 4, NULL), SCN_SEQ_LATE);
    assert_int_equal(scn__seqwindow_add(&w, 1, NULL), SCN_SEQ_DUPLICATE);
}

/* Slots reused as the window slides must not read as seen: seq s and
 * s + WINDOW share a bit. */
static void test_window_slides_without_false_duplicates(void **state)
{
    scn_seqwindow w = {0};
    const uint64_t W = SCN_FLEET_SEQ_WINDOW;
    uint64_t gap;

    (void)state;
    for (uint64_t s = 0; s < W; s += 2)
        assert_int_equal(scn__seqwindow_add(&w, s, NULL), SCN_SEQ_NEW);
    /* Every odd one was skipped; now jump one window ahead: the old even
     * bits must be gone. */
    assert_int_equal(scn__seqwindow_add(&w, 2 * W, &gap), SCN_SEQ_NEW);
    assert_int_equal(gap, W + 1);
    assert_int_equal(scn__seqwindow_add(&w, 2 * W - 2, NULL), SCN_SEQ_LATE);
    /* Small steps reuse slots too. */
    assert_int_equal(scn__seqwindow_add(&w, 2 * W + 3, &gap), SCN_SEQ_NEW);
    assert_int_equal(gap, 2);
    assert_int_equal(scn__seqwindow_add(&w, 2 * W + 1, NULL), SCN_SEQ_LATE);
    assert_int_equal(scn__seqwindow_add(&w, 2 * W + 2, NULL), SCN_SEQ_LATE);
    /* The oldest seq still in the window is remembered. */
    assert_int_equal(scn__seqwindow_add(&w, 2 * W + 3 - (W - 1), NULL),
                     SCN_SEQ_LATE);
    assert_int_equal(scn__seqwindow_add(&w, 2 * W + 3 - (W - 1), NULL),
                     SCN_SEQ_DUPLICATE);
}

/* A step smaller than the window reuses the slots of the seqs it leaves
 * behind: those it skips must read as not seen. */
static void test_small_step_clears_reused_slots(void **state)
{
    scn_seqwindow w = {0};
    const uint64_t W = SCN_FLEET_SEQ_WINDOW;
    uint64_t gap;

    (void)state;
    for (uint64_t s = 0; s < W; s++)
        assert_int_equal(scn__seqwindow_add(&w, s, NULL), SCN_SEQ_NEW);
    assert_int_equal(scn__seqwindow_add(&w, W + 5, &gap), SCN_SEQ_NEW);
    assert_int_equal(gap, 5);
    for (uint64_t s = W; s < W + 5; s++)
        assert_int_equal(scn__seqwindow_add(&w, s, NULL), SCN_SEQ_LATE);
    assert_int_equal(scn__seqwindow_add(&w, W - 1, NULL), SCN_SEQ_DUPLICATE);
}

static void test_restart(void **state)
{
    scn_seqwindow w = {0};
    const uint64_t W = SCN_FLEET_SEQ_WINDOW;

    (void)state;
    assert_int_equal(scn__seqwindow_add(&w, 5 * W, NULL), SCN_SEQ_NEW);
    /* One window back: a companion counting from 1 again. */
    assert_int_equal(scn__seqwindow_add(&w, 4 * W, NULL), SCN_SEQ_RESTART);
    assert_int_equal(w.newest, 4 * W);
    assert_int_equal(scn__seqwindow_add(&w, 4 * W, NULL), SCN_SEQ_DUPLICATE);
    assert_int_equal(scn__seqwindow_add(&w, 4 * W + 1, NULL), SCN_SEQ_NEW);
    /* Just inside the window is a late one, not a restart. */
    assert_int_equal(scn__seqwindow_add(&w, 4 * W + 1 - (W - 1), NULL),
                     SCN_SEQ_LATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_and_duplicates),
        cmocka_unit_test(test_gap_then_late_arrival),
        cmocka_unit_test(test_window_slides_without_false_duplicates),
        cmocka_unit_test(test_small_step_clears_reused_slots),
        cmocka_unit_test(test_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
