/*
 * A recording past 4 GiB, as a long flight makes on a board: the writer's
 * offsets (ChunkIndex, summary, footer) and the data section CRC are 64-bit
 * on every architecture, and a 32-bit reader that cannot map the file says
 * so instead of reading a truncated view. The 4.5 GiB are a hole in a
 * sparse file (scn__recorder_write_hole), so nothing big is written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scentience/error.h>
#include <scentience/recorder.h>
#include <scentience/recording.h>
#include "mcap_format.h"
#include "mcap_writer.h"

#define GIB       (UINT64_C(1) << 30)
#define HOLE      (4 * GIB + GIB / 2)
#define PER_CHUNK 3

typedef struct fixture {
    char dir[64];
    char path[96];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");

    snprintf(f->dir, sizeof f->dir, "%s/scn-mcap-large.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/flight.mcap", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void payload(char *buf, size_t cap, int i)
{
    snprintf(buf, cap, "{\"SEQ\":%d}", i + 1);
}

static uint64_t time_of(int i)
{
    /* Past 2038 in nanoseconds: 2100-01-01T00:00:00Z plus i seconds. */
    return (UINT64_C(4102444800) + (uint64_t)i) * UINT64_C(1000000000);
}

/* Reads exactly n bytes at off (a 64-bit offset) into a new buffer. */
static uint8_t *read_at(const char *path, uint64_t off, size_t n)
{
    uint8_t *buf = malloc(n);
    int fd = open(path, O_RDONLY);
    size_t got = 0;

    assert_non_null(buf);
    assert_true(fd >= 0);
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
        assert_true(r > 0);
        got += (size_t)r;
    }
    close(fd);
    return buf;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* The messages of the Chunk at off (len bytes), checked against the ones
 * written as number first.. */
static void check_chunk(const char *path, uint64_t off, uint64_t len, int first)
{
    uint8_t *buf = read_at(path, off, (size_t)len);
    mcap_record rec, in;
    mcap_chunk ck;
    uint64_t pos = 0;
    int n = 0;

    assert_int_equal(scn__mcap_record_at(buf, (size_t)len, &rec), 1);
    assert_int_equal(rec.opcode, MCAP_OP_CHUNK);
    assert_int_equal(scn__mcap_parse_chunk(&rec, &ck), 0);
    while (pos < ck.records_len) {
        mcap_message m;
        char want[32];

        assert_int_equal(scn__mcap_record_at(ck.records + pos,
                                             (size_t)(ck.records_len - pos),
                                             &in),
                         1);
        assert_int_equal(in.opcode, MCAP_OP_MESSAGE);
        assert_int_equal(scn__mcap_parse_message(&in, &m), 0);
        payload(want, sizeof want, first + n);
        assert_int_equal(m.len, strlen(want));
        assert_memory_equal(m.data, want, m.len);
        assert_true(m.log_time == time_of(first + n));
        pos += MCAP_PREFIX_LEN + in.len;
        n++;
    }
    assert_int_equal(n, PER_CHUNK);
    free(buf);
}

/* Writes PER_CHUNK messages, a hole of hole bytes, PER_CHUNK more. */
static uint64_t write_with_hole(const char *path, uint64_t hole)
{
    scn_recorder *rec;
    scn_recorder_stats st;
    uint16_t ch;
    char buf[32];

    assert_int_equal(scn_recorder_new(path, NULL, &rec), 0);
    assert_int_equal(scn_recorder_add_channel(rec, "/olfaction", "", "", &ch),
                     0);
    for (int i = 0; i < 2 * PER_CHUNK; i++) {
        if (i == PER_CHUNK)
            assert_int_equal(scn__recorder_write_hole(rec, hole), 0);
        payload(buf, sizeof buf, i);
        assert_int_equal(scn_recorder_write(rec, ch, time_of(i), time_of(i),
                                            buf, strlen(buf)),
                         0);
    }
    assert_int_equal(scn_recorder_finish(rec), 0);
    scn_recorder_get_stats(rec, &st);
    scn_recorder_free(rec);
    return st.bytes;
}

/* The reader checks every record and the data section CRC, zeros of the
 * hole included: the writer's CRC of the bytes it never wrote is right. A
 * small hole, so that the whole file is read quickly everywhere. */
static void test_hole_is_skipped_and_checked(void **state)
{
    fixture *f = *state;
    scn_recording *rd;
    scn_recording_info info;
    scn_recording_message m;
    char buf[32];
    int n = 0;

    write_with_hole(f->path, (UINT64_C(1) << 20) + 3);
    assert_int_equal(scn_recording_open(f->path, 0, &rd), 0);
    scn_recording_get_info(rd, &info);
    assert_true(info.complete);
    assert_false(info.truncated);
    assert_true(info.message_count == 2 * PER_CHUNK);
    assert_true(info.chunk_count == 2);
    while (scn_recording_next(rd, &m) == 1) {
        payload(buf, sizeof buf, n);
        assert_int_equal(m.len, strlen(buf));
        assert_memory_equal(m.data, buf, m.len);
        assert_true(m.log_time_ns == time_of(n));
        n++;
    }
    assert_int_equal(n, 2 * PER_CHUNK);
    scn_recording_close(rd);
}

static void test_recording_past_4_gib(void **state)
{
    fixture *f = *state;
    struct stat sb;
    uint8_t *tail, *sum;
    mcap_record r;
    mcap_footer foot;
    uint64_t size, offs[2], lens[2], pos;
    size_t sum_len, nci = 0;
    scn_recording *rd = NULL;

    size = write_with_hole(f->path, HOLE);
    assert_int_equal(stat(f->path, &sb), 0);
    assert_true(size == (uint64_t)sb.st_size);
    assert_true(size > HOLE);

    /* Footer -> summary -> ChunkIndex offsets, read with 64-bit pread. */
    tail = read_at(f->path, size - MCAP_MAGIC_LEN - MCAP_FOOTER_LEN,
                   MCAP_FOOTER_LEN);
    assert_int_equal(scn__mcap_record_at(tail, MCAP_FOOTER_LEN, &r), 1);
    assert_int_equal(scn__mcap_parse_footer(&r, &foot), 0);
    free(tail);
    assert_true(foot.summary_start > HOLE);
    sum_len =
        (size_t)(size - MCAP_MAGIC_LEN - MCAP_FOOTER_LEN - foot.summary_start);
    sum = read_at(f->path, foot.summary_start, sum_len);
    for (pos = 0; pos < sum_len; pos += MCAP_PREFIX_LEN + r.len) {
        assert_int_equal(
            scn__mcap_record_at(sum + pos, sum_len - (size_t)pos, &r), 1);
        if (r.opcode != MCAP_OP_CHUNK_INDEX)
            continue;
        assert_true(nci < 2);
        offs[nci] = get64(r.body + 16); /* after start and end times */
        lens[nci] = get64(r.body + 24);
        nci++;
    }
    free(sum);
    assert_int_equal(nci, 2);
    assert_true(offs[0] < GIB);
    assert_true(offs[1] > HOLE && offs[1] + lens[1] < size);
    check_chunk(f->path, offs[0], lens[0], 0);
    check_chunk(f->path, offs[1], lens[1], PER_CHUNK);

    /* Where a process can map it, opening reads all 4.5 GiB (the data
     * section CRC), what test_hole_is_skipped_and_checked does on a small
     * hole. A 32-bit process cannot map it: an error that says so, never
     * a view cut at 4 GiB. */
    if (SIZE_MAX <= UINT32_MAX) {
        errno = 0;
        assert_int_equal(scn_recording_open(f->path, 0, &rd), SCN_ERR_IO);
        assert_int_equal(errno, EOVERFLOW);
        assert_null(rd);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hole_is_skipped_and_checked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_recording_past_4_gib, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
