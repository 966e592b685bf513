/* lib/core/error.c: every code has its own sentence and name. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <scentience/error.h>

static const int codes[] = {
#define CODE_(name, value, text) value,
    SCN_ERRNO_MAP(CODE_)
#undef CODE_
};

static void test_every_code_distinct(void **state)
{
    size_t n = sizeof(codes) / sizeof(codes[0]);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        assert_true(codes[i] < 0);
        assert_string_not_equal(scn_strerror(codes[i]), "unknown error");
        assert_string_not_equal(scn_err_name(codes[i]), "UNKNOWN");
        for (size_t j = i + 1; j < n; j++) {
            assert_int_not_equal(codes[i], codes[j]);
            assert_string_not_equal(scn_strerror(codes[i]),
                                    scn_strerror(codes[j]));
        }
    }
}

static void test_known_and_unknown(void **state)
{
    (void)state;
    assert_string_equal(scn_err_name(SCN_ERR_QUEUE_FULL), "QUEUE_FULL");
    assert_string_equal(scn_strerror(SCN_ERR_QUEUE_FULL), "the queue is full");
    assert_string_equal(scn_err_name(0), "OK");
    assert_string_equal(scn_strerror(0), "success");
    assert_string_equal(scn_strerror(-9999), "unknown error");
    assert_string_equal(scn_err_name(12345), "UNKNOWN");
}

/* What a user can cause and fix keeps its name; the rest is IO. */
static void test_errno_classes(void **state)
{
    (void)state;
    assert_int_equal(scn_err_from_errno(EADDRINUSE), SCN_ERR_ADDRESS_IN_USE);
    assert_int_equal(scn_err_from_errno(EADDRNOTAVAIL),
                     SCN_ERR_ADDRESS_UNAVAILABLE);
    assert_int_equal(scn_err_from_errno(EACCES), SCN_ERR_PERMISSION);
    assert_int_equal(scn_err_from_errno(EPERM), SCN_ERR_PERMISSION);
    assert_int_equal(scn_err_from_errno(ENOENT), SCN_ERR_NO_SUCH_FILE);
    assert_int_equal(scn_err_from_errno(ENOTDIR), SCN_ERR_NO_SUCH_FILE);
    assert_int_equal(scn_err_from_errno(ENOSPC), SCN_ERR_NO_SPACE);
    assert_int_equal(scn_err_from_errno(EDQUOT), SCN_ERR_NO_SPACE);
    assert_int_equal(scn_err_from_errno(EROFS), SCN_ERR_READ_ONLY);
    assert_int_equal(scn_err_from_errno(EISDIR), SCN_ERR_IS_DIRECTORY);
    assert_int_equal(scn_err_from_errno(EEXIST), SCN_ERR_EXISTS);
    assert_int_equal(scn_err_from_errno(ENOMEM), SCN_ERR_NOMEM);
    assert_int_equal(scn_err_from_errno(EIO), SCN_ERR_IO);
    assert_int_equal(scn_err_from_errno(0), SCN_ERR_IO);
    assert_string_equal(scn_strerror(SCN_ERR_ADDRESS_IN_USE),
                        "address already in use (another program listens "
                        "on that port)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_distinct),
        cmocka_unit_test(test_known_and_unknown),
        cmocka_unit_test(test_errno_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
