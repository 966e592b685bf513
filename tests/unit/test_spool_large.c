/*
 * A spool segment past 4 GiB on a 32-bit board: its size, the bytes a
 * repair cuts off and the offsets are 64-bit (without large-file support
 * fstat() fails with EOVERFLOW there and the spool cannot open). The
 * segment grows by a hole in a sparse file: what a crash leaves after
 * preallocated space, which the repair cuts off.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scentience/error.h>
#include "spool.h"

#define GIB (UINT64_C(1) << 30)

typedef struct fixture {
    char dir[64];
    char seg[320];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");

    snprintf(f->dir, sizeof f->dir, "%s/scn-spool-large.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    DIR *d = opendir(f->dir);
    struct dirent *e;
    char path[512];

    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", f->dir, e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* The one segment file of the spool. */
static void find_segment(fixture *f)
{
    DIR *d = opendir(f->dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "seg-", 4) == 0) {
            snprintf(f->seg, sizeof f->seg, "%s/%s", f->dir, e->d_name);
            n++;
        }
    }
    closedir(d);
    assert_int_equal(n, 1);
}

static uint64_t file_size(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static void test_segment_past_4_gib_is_repaired(void **state)
{
    fixture *f = *state;
    const uint64_t cap = 64 * GIB; /* segments of 8 GiB */
    const uint64_t grown = 4 * GIB + 4096;
    scn_spool *sp;
    scn_spool_stats st;
    scn_spool_cursor cur = {0};
    scn_spool_rec r;
    uint64_t seq, before;

    assert_int_equal(scn__spool_open(f->dir, cap, &sp), 0);
    assert_int_equal(scn__spool_append(sp, "one", 3, &seq, NULL), 0);
    assert_int_equal(scn__spool_append(sp, "two", 3, &seq, NULL), 0);
    assert_true(seq == 2);
    scn__spool_close(sp);
    find_segment(f);
    before = file_size(f->seg);

    assert_int_equal(truncate(f->seg, (off_t)(before + grown)), 0);
    assert_true(file_size(f->seg) > UINT32_MAX);

    assert_int_equal(scn__spool_open(f->dir, cap, &sp), 0);
    scn__spool_get_stats(sp, &st);
    assert_true(st.records == 2);
    /* The cut tail could have held a seq per 16 bytes (the smallest
     * record): all of them are skipped, in 64-bit arithmetic. */
    assert_true(st.next_seq == 3 + grown / 16);
    assert_true(st.torn_tail_repairs == 1);
    assert_true(st.repaired_bytes == grown);
    assert_true(st.bytes == before);
    assert_true(file_size(f->seg) == before);

    /* Both records intact, and the next one lands where the cut was. */
    assert_int_equal(scn__spool_peek(sp, &cur, &r), 0);
    assert_true(r.seq == 1 && r.len == 3);
    assert_memory_equal(r.data, "one", 3);
    assert_int_equal(scn__spool_append(sp, "three", 5, &seq, NULL), 0);
    assert_true(seq == 3 + grown / 16);
    scn__spool_close(sp);
    assert_true(file_size(f->seg) > before);
    assert_true(file_size(f->seg) < before + 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_segment_past_4_gib_is_repaired,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
