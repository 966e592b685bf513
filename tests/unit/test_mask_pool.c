/* Masking keys: 4 bytes each from a block of kernel randomness, refilled
 * when used up, never the same bytes handed out twice in a row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mask_pool.h"

static void test_keys_vary_across_refills(void **state)
{
    scn_mask_pool pool;
    unsigned char key[4], prev[4] = {0};
    int repeats = 0;

    (void)state;
    scn__mask_pool_init(&pool);
    /* 1000 keys: about 16 refills of 64 keys. */
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(scn__mask_pool_take(&pool, key), 0);
        repeats += memcmp(key, prev, 4) == 0;
        memcpy(prev, key, 4);
        assert_true(pool.at <= sizeof(pool.bytes));
    }
    /* Two equal 32-bit keys in a row: about 1 in 4 billion each. */
    assert_true(repeats <= 1);
    /* Taken keys are wiped from the pool. */
    for (size_t i = 0; i < pool.at; i++)
        assert_int_equal(pool.bytes[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_vary_across_refills),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
