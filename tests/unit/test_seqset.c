/* lib/cloud/seqset.c: the bounded sorted set of seqs still owed an answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <scentience/error.h>

#include "seqset.h"

static void test_add_remove_range(void **state)
{
    scn_seqset s;
    uint64_t out[8];

    (void)state;
    assert_int_equal(scn__seqset_init(&s, 8), 0);
    /* Mostly increasing, some out of order (a resend), a duplicate. */
    for (uint64_t seq = 10; seq <= 14; seq++)
        assert_false(scn__seqset_add(&s, seq));
    assert_false(scn__seqset_add(&s, 3));
    assert_false(scn__seqset_add(&s, 12));
    assert_int_equal(scn__seqset_count(&s), 6);
    assert_int_equal(scn__seqset_range(&s, 0, 12, out, 8), 4);
    assert_int_equal(out[0], 3);
    assert_int_equal(out[3], 12);
    /* Chunks: (after, upto], at most max. */
    assert_int_equal(scn__seqset_range(&s, 10, 100, out, 2), 2);
    assert_int_equal(out[0], 11);
    assert_int_equal(out[1], 12);
    assert_true(scn__seqset_remove(&s, 11));
    assert_false(scn__seqset_remove(&s, 11));
    assert_false(scn__seqset_remove(&s, 99));
    assert_int_equal(scn__seqset_range(&s, 3, 13, out, 8), 3);
    assert_int_equal(out[0], 10);
    assert_int_equal(out[1], 12);
    assert_int_equal(scn__seqset_range(&s, 14, 100, out, 8), 0);
    scn__seqset_free(&s);
    assert_int_equal(scn__seqset_init(&s, 0), SCN_ERR_INVALID_ARG);
}

static void test_full_drops_the_smallest(void **state)
{
    scn_seqset s;
    uint64_t out[4];

    (void)state;
    assert_int_equal(scn__seqset_init(&s, 3), 0);
    assert_false(scn__seqset_add(&s, 5));
    assert_false(scn__seqset_add(&s, 6));
    assert_false(scn__seqset_add(&s, 7));
    assert_true(scn__seqset_add(&s, 8)); /* 5 goes */
    assert_true(scn__seqset_add(&s, 1)); /* smaller than all: not kept */
    assert_false(scn__seqset_add(&s, 8));
    assert_int_equal(scn__seqset_range(&s, 0, 100, out, 4), 3);
    assert_int_equal(out[0], 6);
    assert_int_equal(out[2], 8);
    scn__seqset_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_remove_range),
        cmocka_unit_test(test_full_drops_the_smallest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
