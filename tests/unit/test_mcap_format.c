/* lib/mcap/mcap_format.c: every record encodes to the spec's byte layout and
 * parses back; cut or short bodies are refused, never read past. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <scentience/error.h>

#include "mcap_format.h"

/* The one record in b, checked to span the whole buffer. */
static mcap_record only_record(const mcap_buf *b, uint8_t opcode)
{
    mcap_record r;

    assert_int_equal(scn__mcap_record_at(b->data, b->len, &r), 1);
    assert_int_equal(r.opcode, opcode);
    assert_int_equal(MCAP_PREFIX_LEN + r.len, b->len);
    return r;
}

static void assert_str(mcap_str s, const char *want)
{
    assert_int_equal(s.len, strlen(want));
    assert_memory_equal(s.p, want, s.len);
}

static void test_little_endian(void **state)
{
    uint8_t b[8];

    (void)state;
    mcap_put_u64(b, 0x0102030405060708ull);
    assert_int_equal(b[0], 0x08);
    assert_int_equal(b[7], 0x01);
    assert_true(mcap_get_u64(b) == 0x0102030405060708ull);
    mcap_put_u32(b, 0xA1B2C3D4u);
    assert_int_equal(b[0], 0xD4);
    assert_int_equal(mcap_get_u32(b), 0xA1B2C3D4u);
    mcap_put_u16(b, 0xBEEF);
    assert_int_equal(b[0], 0xEF);
    assert_int_equal(mcap_get_u16(b), 0xBEEF);
}

static void test_header_bytes(void **state)
{
    static const uint8_t want[] = {0x01, 13, 0,   0,   0,   0,   0, 0,
                                   0,    1,  0,   0,   0,   'p', 4, 0,
                                   0,    0,  'l', 'i', 'b', '1'};
    mcap_buf b = {0};
    mcap_header h;
    mcap_record r;

    (void)state;
    assert_int_equal(scn__mcap_put_header(&b, "p", "lib1"), 0);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    r = only_record(&b, MCAP_OP_HEADER);
    assert_int_equal(scn__mcap_parse_header(&r, &h), 0);
    assert_str(h.profile, "p");
    assert_str(h.library, "lib1");
    scn__mcap_buf_free(&b);
}

static void test_schema_and_channel(void **state)
{
    mcap_buf b = {0};
    mcap_record r;
    mcap_schema s;
    mcap_channel c;

    (void)state;
    assert_int_equal(scn__mcap_put_schema(&b, 7, "x.T", "jsonschema", "{}", 2),
                     0);
    r = only_record(&b, MCAP_OP_SCHEMA);
    assert_int_equal(scn__mcap_parse_schema(&r, &s), 0);
    assert_int_equal(s.id, 7);
    assert_str(s.name, "x.T");
    assert_str(s.encoding, "jsonschema");
    assert_int_equal(s.len, 2);
    assert_memory_equal(s.data, "{}", 2);

    b.len = 0;
    assert_int_equal(scn__mcap_put_channel(&b, 3, 7, "/t", "json"), 0);
    r = only_record(&b, MCAP_OP_CHANNEL);
    assert_int_equal(scn__mcap_parse_channel(&r, &c), 0);
    assert_int_equal(c.id, 3);
    assert_int_equal(c.schema_id, 7);
    assert_str(c.topic, "/t");
    assert_str(c.message_encoding, "json");
    /* Empty metadata map: the body ends with a zero u32. */
    assert_int_equal(mcap_get_u32(b.data + b.len - 4), 0);
    scn__mcap_buf_free(&b);
}

static void test_message_head(void **state)
{
    uint8_t b[MCAP_MESSAGE_HEAD_LEN + 3];
    mcap_record r;
    mcap_message m;

    (void)state;
    mcap_message_head(b, 2, 9, 1000, 900, 3);
    memcpy(b + MCAP_MESSAGE_HEAD_LEN, "{ }", 3);
    assert_int_equal(scn__mcap_record_at(b, sizeof(b), &r), 1);
    assert_int_equal(r.opcode, MCAP_OP_MESSAGE);
    assert_int_equal(scn__mcap_parse_message(&r, &m), 0);
    assert_int_equal(m.channel_id, 2);
    assert_int_equal(m.sequence, 9);
    assert_true(m.log_time == 1000 && m.publish_time == 900);
    assert_int_equal(m.len, 3);
    assert_memory_equal(m.data, "{ }", 3);
}

static void test_chunk_head(void **state)
{
    uint8_t b[MCAP_CHUNK_HEAD_LEN + 4] = {0};
    mcap_record r;
    mcap_chunk c;

    (void)state;
    scn__mcap_chunk_head(b, 5, 6, 4, 0xDEADBEEF);
    assert_int_equal(scn__mcap_record_at(b, sizeof(b), &r), 1);
    assert_int_equal(r.opcode, MCAP_OP_CHUNK);
    assert_int_equal(scn__mcap_parse_chunk(&r, &c), 0);
    assert_true(c.start == 5 && c.end == 6);
    assert_true(c.uncompressed_size == 4 && c.records_len == 4);
    assert_int_equal(c.crc, 0xDEADBEEF);
    assert_int_equal(c.compression.len, 0);
    assert_ptr_equal(c.records, b + MCAP_CHUNK_HEAD_LEN);
    /* One byte short of the records: the record is cut, not parsed. */
    assert_int_equal(scn__mcap_record_at(b, sizeof(b) - 1, &r), 0);
}

static void test_indexes_and_summary(void **state)
{
    uint16_t ids[2] = {1, 2};
    uint64_t offs[2] = {100, 200}, counts[2] = {10, 20};
    uint8_t entries[2 * MCAP_INDEX_ENTRY_LEN] = {0};
    mcap_chunk_index ci = {1, 2, 50, 60, 2, ids, offs, 70, 11};
    mcap_statistics st = {0}, got;
    mcap_buf b = {0};
    mcap_record r;
    mcap_footer f;
    uint32_t crc;

    (void)state;
    assert_int_equal(scn__mcap_put_message_index(&b, 4, entries, 2), 0);
    r = only_record(&b, MCAP_OP_MESSAGE_INDEX);
    assert_int_equal(scn__mcap_check_message_index(&r), 0);
    assert_int_equal(mcap_get_u32(r.body + 2), 32);

    b.len = 0;
    assert_int_equal(scn__mcap_put_chunk_index(&b, &ci), 0);
    r = only_record(&b, MCAP_OP_CHUNK_INDEX);
    /* start, end, offset, length, map of 2 x (u16, u64), index length,
     * compression "", compressed and uncompressed size. */
    assert_int_equal(r.len, 32 + 4 + 20 + 8 + 4 + 16);
    assert_int_equal(mcap_get_u16(r.body + 36 + 10), 2);
    assert_true(mcap_get_u64(r.body + 36 + 12) == 200);

    b.len = 0;
    st.message_count = 30;
    st.schema_count = 2;
    st.channel_count = 2;
    st.chunk_count = 1;
    st.start = 1;
    st.end = 9;
    st.channels = 2;
    st.channel_ids = ids;
    st.channel_counts = counts;
    assert_int_equal(scn__mcap_put_statistics(&b, &st), 0);
    r = only_record(&b, MCAP_OP_STATISTICS);
    assert_int_equal(scn__mcap_parse_statistics(&r, &got), 0);
    assert_true(got.message_count == 30 && got.chunk_count == 1);
    assert_int_equal(got.channels, 2);
    assert_true(got.start == 1 && got.end == 9);

    b.len = 0;
    assert_int_equal(scn__mcap_put_data_end(&b, 0x1234), 0);
    r = only_record(&b, MCAP_OP_DATA_END);
    assert_int_equal(scn__mcap_parse_data_end(&r, &crc), 0);
    assert_int_equal(crc, 0x1234);
    assert_int_equal(b.len, MCAP_DATA_END_LEN);

    b.len = 0;
    assert_int_equal(scn__mcap_put_summary_offset(&b, MCAP_OP_SCHEMA, 7, 8), 0);
    r = only_record(&b, MCAP_OP_SUMMARY_OFFSET);
    assert_int_equal(r.body[0], MCAP_OP_SCHEMA);

    assert_int_equal(scn__mcap_buf_reserve(&b, MCAP_FOOTER_LEN), 0);
    scn__mcap_footer_record(b.data, 11, 22, 33);
    b.len = MCAP_FOOTER_LEN;
    r = only_record(&b, MCAP_OP_FOOTER);
    assert_int_equal(scn__mcap_parse_footer(&r, &f), 0);
    assert_true(f.summary_start == 11 && f.summary_offset_start == 22);
    assert_int_equal(f.summary_crc, 33);
    scn__mcap_buf_free(&b);
}

/* Every parser refuses every body shorter than what its fields say. */
static void test_short_bodies_refused(void **state)
{
    mcap_buf b = {0};
    mcap_record r;
    mcap_schema s;
    mcap_channel c;
    mcap_header h;

    (void)state;
    assert_int_equal(scn__mcap_put_schema(&b, 1, "n", "e", "data", 4), 0);
    r = only_record(&b, MCAP_OP_SCHEMA);
    for (uint64_t len = 0; len < r.len; len++) {
        mcap_record cut = r;

        cut.len = len;
        assert_int_equal(scn__mcap_parse_schema(&cut, &s), SCN_ERR_MCAP_FORMAT);
    }
    b.len = 0;
    assert_int_equal(scn__mcap_put_channel(&b, 1, 1, "/t", "json"), 0);
    r = only_record(&b, MCAP_OP_CHANNEL);
    for (uint64_t len = 0; len < r.len; len++) {
        mcap_record cut = r;

        cut.len = len;
        assert_int_equal(scn__mcap_parse_channel(&cut, &c),
                         SCN_ERR_MCAP_FORMAT);
    }
    /* A string length pointing far past the body. */
    b.len = 0;
    assert_int_equal(scn__mcap_put_header(&b, "", ""), 0);
    r = only_record(&b, MCAP_OP_HEADER);
    mcap_put_u32(b.data + MCAP_PREFIX_LEN, 0xFFFFFFFFu);
    assert_int_equal(scn__mcap_parse_header(&r, &h), SCN_ERR_MCAP_FORMAT);
    scn__mcap_buf_free(&b);
}

static void test_record_length_overflow(void **state)
{
    uint8_t b[16] = {MCAP_OP_MESSAGE};
    mcap_record r;

    (void)state;
    mcap_put_u64(b + 1, UINT64_MAX);
    assert_int_equal(scn__mcap_record_at(b, sizeof(b), &r), 0);
    mcap_put_u64(b + 1, 7);
    assert_int_equal(scn__mcap_record_at(b, sizeof(b), &r), 1);
    assert_int_equal(scn__mcap_record_at(b, 8, &r), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_little_endian),
        cmocka_unit_test(test_header_bytes),
        cmocka_unit_test(test_schema_and_channel),
        cmocka_unit_test(test_message_head),
        cmocka_unit_test(test_chunk_head),
        cmocka_unit_test(test_indexes_and_summary),
        cmocka_unit_test(test_short_bodies_refused),
        cmocka_unit_test(test_record_length_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
