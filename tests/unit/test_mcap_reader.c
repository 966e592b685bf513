/* lib/mcap/mcap_reader.c: corrupt bytes are caught by the CRCs, a file cut at
 * any byte reads up to its last complete chunk, and what is not MCAP is
 * refused. Files are built by the recorder, then damaged in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runner.h"
#include <scentience/error.h>
#include <scentience/recorder.h>
#include <scentience/recording.h>

#include "mcap_format.h"

#define MESSAGES  60
#define PER_CHUNK 10

typedef struct sample {
    uint8_t *data;
    size_t len;
    size_t chunk_end[MESSAGES / PER_CHUNK]; /* end of each chunk record */
    size_t data_end;                        /* offset of DataEnd */
} sample;

/* A recording of MESSAGES messages on two channels, a chunk every
 * PER_CHUNK messages, loaded into memory with its chunk boundaries. */
static sample *make_sample(void)
{
    char path[128];
    scn_recorder_options o;
    scn_recorder *rec;
    sample *s = calloc(1, sizeof(*s));
    uint16_t a, b;
    size_t pos, k = 0;
    mcap_record r;
    FILE *f;
    int fd =
        mkstemp(test_tmp_path(path, sizeof(path), "scn-test-mcapr-XXXXXX"));

    assert_true(fd >= 0 && s);
    close(fd);
    scn_recorder_options_init(&o);
    o.flush_every_messages = PER_CHUNK;
    o.no_sync = 1;
    assert_int_equal(scn_recorder_new(path, &o, &rec), 0);
    assert_int_equal(scn_recorder_add_channel(rec, "/a", "A", "{}", &a), 0);
    assert_int_equal(scn_recorder_add_channel(rec, "/b", "B", "{}", &b), 0);
    for (uint64_t i = 0; i < MESSAGES; i++)
        assert_int_equal(scn_recorder_write(rec, i % 2 ? a : b, 100 + i, i,
                                            "{\"k\":\"value\"}", 13),
                         0);
    assert_int_equal(scn_recorder_finish(rec), 0);
    scn_recorder_free(rec);

    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    s->len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    s->data = malloc(s->len);
    assert_int_equal(fread(s->data, 1, s->len, f), s->len);
    fclose(f);
    unlink(path);

    for (pos = MCAP_MAGIC_LEN;
         scn__mcap_record_at(s->data + pos, s->len - pos, &r);
         pos += MCAP_PREFIX_LEN + r.len) {
        if (r.opcode == MCAP_OP_CHUNK)
            s->chunk_end[k++] = pos + MCAP_PREFIX_LEN + r.len;
        if (r.opcode == MCAP_OP_DATA_END) {
            s->data_end = pos;
            break;
        }
    }
    assert_int_equal(k, MESSAGES / PER_CHUNK);
    return s;
}

static void free_sample(sample *s)
{
    free(s->data);
    free(s);
}

static int open_copy(const uint8_t *d, size_t len, unsigned flags,
                     scn_recording_info *in)
{
    scn_recording *r;
    int rc = scn_recording_open_memory(d, len, flags, &r);

    if (rc == 0) {
        scn_recording_get_info(r, in);
        scn_recording_close(r);
    }
    return rc;
}

static void test_intact(void **state)
{
    sample *s = make_sample();
    scn_recording_info in;

    (void)state;
    assert_int_equal(open_copy(s->data, s->len, 0, &in), 0);
    assert_true(in.complete);
    assert_int_equal(in.message_count, MESSAGES);
    assert_int_equal(in.chunk_count, MESSAGES / PER_CHUNK);
    assert_int_equal(in.valid_bytes, s->len);
    free_sample(s);
}

/* A flipped byte inside a chunk's records: chunk CRC. */
static void test_chunk_crc_mismatch(void **state)
{
    sample *s = make_sample();
    scn_recording_info in;
    size_t at = s->chunk_end[2] - 3; /* in the last message's data */

    (void)state;
    s->data[at] ^= 0x20;
    assert_int_equal(open_copy(s->data, s->len, 0, &in), SCN_ERR_MCAP_CRC);
    /* Salvage keeps the chunks before the damaged one. */
    assert_int_equal(open_copy(s->data, s->len, SCN_RECORDING_SALVAGE, &in), 0);
    assert_true(in.salvaged);
    assert_false(in.complete);
    assert_int_equal(in.message_count, 2 * PER_CHUNK);
    /* Reading stopped where the damaged chunk starts: after the second
     * chunk and its message indexes. */
    assert_true(in.valid_bytes > s->chunk_end[1]);
    assert_true(in.valid_bytes < s->chunk_end[2]);
    free_sample(s);
}

/* A flipped byte outside every chunk (a message index entry's time): only
 * the data section CRC sees it. */
static void test_data_crc_mismatch(void **state)
{
    sample *s = make_sample();
    scn_recording_info in;

    (void)state;
    /* The MessageIndex right after the first chunk: opcode, length,
     * channel, array length, then the first entry's log time. */
    assert_int_equal(s->data[s->chunk_end[0]], MCAP_OP_MESSAGE_INDEX);
    s->data[s->chunk_end[0] + 15] ^= 1;
    assert_int_equal(open_copy(s->data, s->len, 0, &in), SCN_ERR_MCAP_CRC);
    assert_int_equal(open_copy(s->data, s->len, SCN_RECORDING_SALVAGE, &in), 0);
    assert_int_equal(in.message_count, MESSAGES);
    assert_false(in.complete);
    free_sample(s);
}

/* A flipped byte in the summary: the footer's summary CRC. */
static void test_summary_crc_mismatch(void **state)
{
    sample *s = make_sample();
    scn_recording_info in;
    size_t at = s->len - MCAP_MAGIC_LEN - MCAP_FOOTER_LEN - 30;

    (void)state;
    s->data[at] ^= 0x55;
    assert_int_equal(open_copy(s->data, s->len, 0, &in), SCN_ERR_MCAP_CRC);
    assert_int_equal(open_copy(s->data, s->len, SCN_RECORDING_SALVAGE, &in), 0);
    assert_int_equal(in.message_count, MESSAGES);
    free_sample(s);
}

/* Statistics that disagree with the data are refused even when the CRCs
 * are absent (0), as other writers may leave them. */
static void test_statistics_must_agree(void **state)
{
    sample *s = make_sample();
    scn_recording_info in;
    size_t pos = s->data_end + MCAP_DATA_END_LEN;
    uint8_t *footer = s->data + s->len - MCAP_MAGIC_LEN - MCAP_FOOTER_LEN;
    mcap_record r;

    (void)state;
    mcap_put_u32(footer + 25, 0); /* no summary CRC */
    while (scn__mcap_record_at(s->data + pos, s->len - pos, &r) &&
           r.opcode != MCAP_OP_STATISTICS)
        pos += MCAP_PREFIX_LEN + r.len;
    assert_int_equal(r.opcode, MCAP_OP_STATISTICS);
    mcap_put_u64(s->data + pos + MCAP_PREFIX_LEN, MESSAGES + 1);
    assert_int_equal(open_copy(s->data, s->len, 0, &in), SCN_ERR_MCAP_FORMAT);
    free_sample(s);
}

/* Cut at every byte: never an error past the header, never a message
 * from a cut chunk, and the count only grows with the length. */
static void test_truncated_everywhere(void **state)
{
    sample *s = make_sample();
    scn_recording_info in;
    uint64_t last = 0;

    (void)state;
    for (size_t len = 0; len <= s->len; len++) {
        uint64_t want = 0;
        int rc = open_copy(s->data, len, 0, &in);

        if (len < MCAP_MAGIC_LEN + MCAP_PREFIX_LEN) {
            assert_int_equal(rc, SCN_ERR_MCAP_TRUNCATED);
            continue;
        }
        if (rc == SCN_ERR_MCAP_TRUNCATED)
            continue; /* inside the header record */
        assert_int_equal(rc, 0);
        for (size_t k = 0; k < MESSAGES / PER_CHUNK; k++)
            if (len >= s->chunk_end[k])
                want += PER_CHUNK;
        assert_int_equal(in.message_count, want);
        assert_true(in.message_count >= last);
        last = in.message_count;
        assert_int_equal(in.complete, len == s->len);
        assert_int_equal(in.truncated, len != s->len);
        assert_true(in.valid_bytes <= len);
    }
    free_sample(s);
}

static void test_not_mcap(void **state)
{
    static const char junk[] = "{\"not\":\"mcap\"} but long enough to scan";
    uint8_t buf[64];
    scn_recording_info in;
    scn_recording *r;

    (void)state;
    assert_int_equal(open_copy((const uint8_t *)junk, sizeof(junk), 0, &in),
                     SCN_ERR_MCAP_FORMAT);
    assert_int_equal(open_copy(NULL, 0, 0, &in), SCN_ERR_MCAP_TRUNCATED);
    assert_int_equal(open_copy((const uint8_t *)MCAP_MAGIC, 5, 0, &in),
                     SCN_ERR_MCAP_TRUNCATED);
    /* Magic, then a record that is not a Header. */
    memcpy(buf, MCAP_MAGIC, MCAP_MAGIC_LEN);
    memset(buf + MCAP_MAGIC_LEN, 0, sizeof(buf) - MCAP_MAGIC_LEN);
    buf[MCAP_MAGIC_LEN] = MCAP_OP_MESSAGE;
    assert_int_equal(open_copy(buf, sizeof(buf), 0, &in), SCN_ERR_MCAP_FORMAT);
    assert_int_equal(scn_recording_open("/nonexistent/x.mcap", 0, &r),
                     SCN_ERR_NO_SUCH_FILE);
    assert_int_equal(scn_recording_open(NULL, 0, &r), SCN_ERR_INVALID_ARG);
}

/* Zeros after the last flush (what some file systems leave after a power
 * cut) are corruption, not truncation; salvage keeps what precedes. */
static void test_zero_tail(void **state)
{
    sample *s = make_sample();
    size_t len = s->chunk_end[3] + 4096;
    uint8_t *d = calloc(1, len);
    scn_recording_info in;

    (void)state;
    memcpy(d, s->data, s->chunk_end[3]);
    assert_int_equal(open_copy(d, len, 0, &in), SCN_ERR_MCAP_FORMAT);
    assert_int_equal(open_copy(d, len, SCN_RECORDING_SALVAGE, &in), 0);
    assert_int_equal(in.message_count, 4 * PER_CHUNK);
    free(d);
    free_sample(s);
}

/* A compressed chunk cannot be read; other records are skipped. */
static void test_compressed_chunk(void **state)
{
    mcap_buf b = {0};
    scn_recording_info in;
    uint8_t *p;

    (void)state;
    assert_int_equal(scn__mcap_buf_reserve(&b, 256), 0);
    memcpy(b.data, MCAP_MAGIC, MCAP_MAGIC_LEN);
    b.len = MCAP_MAGIC_LEN;
    assert_int_equal(scn__mcap_put_header(&b, "", "t"), 0);
    /* A metadata-like record of an unknown opcode: skipped. */
    p = b.data + b.len;
    p[0] = 0x80;
    mcap_put_u64(p + 1, 2);
    b.len += MCAP_PREFIX_LEN + 2;
    p = b.data + b.len;
    p[0] = MCAP_OP_CHUNK;
    mcap_put_u64(p + 1, 8 + 8 + 8 + 4 + 4 + 3 + 8);
    memset(p + 9, 0, 28);
    mcap_put_u32(p + 37, 3);
    memcpy(p + 41, "lz4", 3);
    mcap_put_u64(p + 44, 0);
    b.len += 9 + 43;
    assert_int_equal(open_copy(b.data, b.len, 0, &in), SCN_ERR_UNSUPPORTED);
    scn__mcap_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intact),
        cmocka_unit_test(test_chunk_crc_mismatch),
        cmocka_unit_test(test_data_crc_mismatch),
        cmocka_unit_test(test_summary_crc_mismatch),
        cmocka_unit_test(test_statistics_must_agree),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_not_mcap),
        cmocka_unit_test(test_zero_tail),
        cmocka_unit_test(test_compressed_chunk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
