/* Incremental UTF-8 validation: the boundaries RFC 3629 draws (overlongs,
 * surrogates, above U+10FFFF), and text split anywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "utf8.h"

static bool valid(const char *s)
{
    return scn__utf8_check(s, strlen(s));
}

static void test_accepts(void **state)
{
    (void)state;
    assert_true(valid(""));
    assert_true(valid("plain ascii, long enough for the 8-byte path"));
    assert_true(valid("\xc2\x80"));         /* U+0080 */
    assert_true(valid("\xdf\xbf"));         /* U+07FF */
    assert_true(valid("\xe0\xa0\x80"));     /* U+0800 */
    assert_true(valid("\xed\x9f\xbf"));     /* U+D7FF */
    assert_true(valid("\xee\x80\x80"));     /* U+E000 */
    assert_true(valid("\xef\xbf\xbf"));     /* U+FFFF */
    assert_true(valid("\xf0\x90\x80\x80")); /* U+10000 */
    assert_true(valid("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
    assert_true(valid("caf\xc3\xa9 \xe2\x82\xac NH\xe2\x82\x83"));
}

static void test_refuses(void **state)
{
    (void)state;
    assert_false(valid("\x80"));             /* continuation first */
    assert_false(valid("\xc0\xaf"));         /* overlong '/' */
    assert_false(valid("\xc1\xbf"));         /* overlong */
    assert_false(valid("\xe0\x9f\xbf"));     /* overlong U+07FF */
    assert_false(valid("\xed\xa0\x80"));     /* surrogate U+D800 */
    assert_false(valid("\xf0\x8f\xbf\xbf")); /* overlong U+FFFF */
    assert_false(valid("\xf4\x90\x80\x80")); /* U+110000 */
    assert_false(valid("\xf5\x80\x80\x80"));
    assert_false(valid("\xff"));
    assert_false(valid("ok\xc3")); /* cut short */
    assert_false(valid("\xe2\x82"));
    assert_false(valid("\xe2(\xa1"));    /* not a continuation */
    assert_false(valid("12345678\xfe")); /* after the fast path */
}

/* Any split of a valid text is accepted piece by piece; a cut character
 * is complete only once its last byte came. */
static void test_pieces(void **state)
{
    const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";
    size_t n = strlen(s);
    scn_utf8 u;

    (void)state;
    for (size_t cut = 0; cut <= n; cut++) {
        scn__utf8_init(&u);
        assert_true(scn__utf8_feed(&u, (const unsigned char *)s, cut));
        assert_true(
            scn__utf8_feed(&u, (const unsigned char *)s + cut, n - cut));
        assert_true(scn__utf8_complete(&u));
    }
    scn__utf8_init(&u);
    assert_true(scn__utf8_feed(&u, (const unsigned char *)"\xf0\x9f", 2));
    assert_false(scn__utf8_complete(&u));
    assert_false(scn__utf8_feed(&u, (const unsigned char *)"A", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_refuses),
        cmocka_unit_test(test_pieces),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
