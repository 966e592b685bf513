/* lib/version.c: the running library and the headers agree on one version,
 * the one CMake's project() names (SCN_EXPECTED_VERSION, from the build). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>
#include <scentience/scentience.h>

static void test_string_is_the_projects(void **state)
{
    (void)state;
    assert_string_equal(scn_version(), SCN_EXPECTED_VERSION);
    assert_string_equal(SCN_VERSION_STRING, SCN_EXPECTED_VERSION);
}

static void test_numbers_match_the_string(void **state)
{
    char s[32];

    (void)state;
    snprintf(s, sizeof(s), "%d.%d.%d", SCN_VERSION_MAJOR, SCN_VERSION_MINOR,
             SCN_VERSION_PATCH);
    assert_string_equal(s, scn_version());
    assert_int_equal(scn_version_number(), SCN_VERSION_NUMBER);
    assert_int_equal(scn_version_number() >> 16, SCN_VERSION_MAJOR);
    assert_int_equal((scn_version_number() >> 8) & 0xff, SCN_VERSION_MINOR);
    assert_int_equal(scn_version_number() & 0xff, SCN_VERSION_PATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_is_the_projects),
        cmocka_unit_test(test_numbers_match_the_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
