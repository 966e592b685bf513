/* SHA-1 against the FIPS 180 examples and lengths around the padding
 * boundaries (55 and 64 bytes; values from coreutils sha1sum). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sha1.h"

static void hex(const unsigned char *d, char out[41])
{
    for (int i = 0; i < SCN_SHA1_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void expect(const void *data, size_t len, const char *want)
{
    unsigned char d[SCN_SHA1_LEN];
    char h[41];

    scn__sha1(data, len, d);
    hex(d, h);
    assert_string_equal(h, want);
}

static void test_vectors(void **state)
{
    char *million;

    (void)state;
    expect("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    expect("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
    expect("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
           "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    expect("The quick brown fox jumps over the lazy dog", 43,
           "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
    million = malloc(1000000);
    assert_non_null(million);
    memset(million, 'a', 1000000);
    expect(million, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    free(million);
    /* 55 and 64 bytes: the length fits the last block, or does not. */
    expect("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 55,
           "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    expect("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
           64, "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
