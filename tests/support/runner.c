/* The test programs' side of tests/run-test. */
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A test program is one process running its tests one after another: a
 * skip noted here is read by main at the end. */
static int skipped;

double test_time_scale(void)
{
    const char *v = getenv("SCN_TEST_TIME_SCALE");
    double s = v && *v ? strtod(v, NULL) : 1.0;

    return s >= 1.0 ? s : 1.0;
}

uint32_t scaled_ms(uint32_t ms)
{
    double v = (double)ms * test_time_scale();

    return v < (double)UINT32_MAX ? (uint32_t)v : UINT32_MAX;
}

void test_skip_note(const char *fmt, ...)
{
    va_list ap;

    skipped++;
    fputs("SKIP: ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

char *test_tmp_path(char *buf, size_t cap, const char *name)
{
    const char *dir = getenv("TMPDIR");
    int n;

    if (dir && *dir) {
        n = snprintf(buf, cap, "%s/%s", dir, name);
        if (n > 0 && (size_t)n < cap)
            return buf;
    }
    snprintf(buf, cap, "/tmp/%s", name);
    return buf;
}

int test_exit_code(int failed)
{
    if (failed)
        return failed;
    return skipped ? TEST_SKIP_EXIT : 0;
}
