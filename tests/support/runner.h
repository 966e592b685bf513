/*
 * What a C test program and tests/run-test agree on: how much slower than a
 * quiet machine this run may be (SCN_TEST_TIME_SCALE, set per build by
 * tests/CMakeLists.txt: sanitizers, valgrind), and how a skip reaches ctest
 * (exit code 77, SKIP_RETURN_CODE) instead of passing silently, and where
 * temporary files go.
 */
#ifndef SCN_TEST_RUNNER_H
#define SCN_TEST_RUNNER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define TEST_SKIP_EXIT 77

/* SCN_TEST_TIME_SCALE, or 1 when unset (a run by hand). */
double test_time_scale(void);
/* ms times the time scale: every deadline a test waits for, and every
 * timer of ours that must not fire just because the machine is slow. */
uint32_t scaled_ms(uint32_t ms);

/* Says why the current test cannot run here and skips it; the program
 * then ends with TEST_SKIP_EXIT (see test_exit_code). Only for checks that
 * legitimately cannot run on this platform; a missing dependency that
 * scripts/install-deps provides is a failure, not a skip. */
#define test_skip(...)                                                         \
    do {                                                                       \
        test_skip_note(__VA_ARGS__);                                           \
        skip();                                                                \
    } while (0)
void test_skip_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* buf = "$TMPDIR/name" (run-test gives each test its own TMPDIR and
 * removes it afterwards), or "/tmp/name" when TMPDIR is unset or too long
 * for cap. For mkdtemp/mkstemp templates too. Returns buf. */
char *test_tmp_path(char *buf, size_t cap, const char *name);

/* main's return value: the number of failed tests as cmocka counts them,
 * or TEST_SKIP_EXIT when none failed and one was skipped. */
int test_exit_code(int failed);

#endif
