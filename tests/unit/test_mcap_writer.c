/* lib/mcap/mcap_writer.c: what the recorder writes reads back through
 * lib/mcap/mcap_reader.c, and its indexes point where the spec says. */
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

static char path[64];

static int setup(void **state)
{
    int fd;

    (void)state;
    test_tmp_path(path, sizeof(path), "scn-test-mcap-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static uint8_t *slurp(size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)n + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return data;
}

static void test_round_trip(void **state)
{
    scn_recorder_options o;
    scn_recorder *rec;
    scn_recording *r;
    scn_recording_info in;
    scn_recording_message m;
    const scn_recording_channel *c;
    uint16_t olf, ev, custom, again;
    char buf[128];

    (void)state;
    scn_recorder_options_init(&o);
    assert_int_equal(o.chunk_size, 256 * 1024);
    assert_int_equal(o.flush_interval_ms, 1000);
    o.chunk_size = 1024; /* several chunks */
    assert_int_equal(scn_recorder_new(path, &o, &rec), 0);
    assert_int_equal(
        scn_recorder_stream_channel(rec, SCN_RECORD_OLFACTION, &olf), 0);
    assert_int_equal(
        scn_recorder_stream_channel(rec, SCN_RECORD_OLFACTION, &again), 0);
    assert_int_equal(olf, again);
    assert_int_equal(scn_recorder_stream_channel(rec, SCN_RECORD_EVENTS, &ev),
                     0);
    assert_int_equal(scn_recorder_add_channel(rec, "/custom", "x.Custom",
                                              "{\"type\":\"object\"}", &custom),
                     0);
    assert_int_equal(scn_recorder_add_channel(rec, "/custom", "x", "", &again),
                     SCN_ERR_STATE);
    for (int i = 0; i < 100; i++) {
        int n = snprintf(buf, sizeof(buf), "{\"UID\":\"d\",\"SEQ\":%d}", i);

        assert_int_equal(scn_recorder_write(rec, i % 2 ? custom : olf,
                                            1000 + (uint64_t)i * 10,
                                            500 + (uint64_t)i, buf, (size_t)n),
                         0);
    }
    assert_int_equal(scn_recorder_write(rec, ev, 5, 5, "{\"event\":\"x\"}", 13),
                     0);
    assert_int_equal(scn_recorder_write(rec, 99, 5, 5, "{}", 2),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_recorder_finish(rec), 0);
    assert_int_equal(scn_recorder_write(rec, ev, 5, 5, "{}", 2), SCN_ERR_STATE);
    scn_recorder_free(rec);

    assert_int_equal(scn_recording_open(path, 0, &r), 0);
    scn_recording_get_info(r, &in);
    assert_true(in.complete);
    assert_false(in.truncated);
    assert_int_equal(in.message_count, 101);
    assert_int_equal(in.channel_count, 3);
    assert_true(in.chunk_count > 1);
    assert_true(in.start_ns == 5 && in.end_ns == 1990);
    assert_string_equal(in.library, "scentience-c");
    c = scn_recording_find_channel(r, "/olfaction");
    assert_non_null(c);
    assert_int_equal(c->message_count, 50);
    assert_string_equal(c->message_encoding, "json");
    assert_string_equal(c->schema_name, "scentience.Olfaction");
    assert_string_equal(c->schema_encoding, "jsonschema");
    assert_string_equal(c->schema_data,
                        scn_record_stream_schema(SCN_RECORD_OLFACTION));
    c = scn_recording_find_channel(r, "/custom");
    assert_string_equal(c->schema_data, "{\"type\":\"object\"}");
    assert_null(scn_recording_find_channel(r, "/nope"));

    /* Log time order: the event at 5 first, then the frames. */
    assert_int_equal(scn_recording_next(r, &m), 1);
    assert_string_equal(m.channel->topic, "/events");
    for (int i = 0; i < 100; i++) {
        int n = snprintf(buf, sizeof(buf), "{\"UID\":\"d\",\"SEQ\":%d}", i);

        assert_int_equal(scn_recording_next(r, &m), 1);
        assert_string_equal(m.channel->topic, i % 2 ? "/custom" : "/olfaction");
        assert_true(m.log_time_ns == 1000 + (uint64_t)i * 10);
        assert_true(m.publish_time_ns == 500 + (uint64_t)i);
        assert_int_equal(m.sequence, (uint32_t)i / 2);
        assert_int_equal(m.len, (size_t)n);
        assert_memory_equal(m.data, buf, m.len);
    }
    assert_int_equal(scn_recording_next(r, &m), 0);
    scn_recording_rewind(r);
    assert_int_equal(scn_recording_next(r, &m), 1);
    scn_recording_close(r);
}

/* Walks the summary the way an indexed reader does: footer, summary
 * offsets, chunk indexes, message indexes, messages. */
static void check_indexes(const uint8_t *d, size_t len, uint64_t want_msgs)
{
    const uint8_t *footer = d + len - MCAP_MAGIC_LEN - MCAP_FOOTER_LEN;
    uint64_t ss = mcap_get_u64(footer + 9), so = mcap_get_u64(footer + 17);
    uint64_t msgs = 0, pos;
    int groups = 0;
    mcap_record r;

    assert_memory_equal(d + len - MCAP_MAGIC_LEN, MCAP_MAGIC, MCAP_MAGIC_LEN);
    assert_int_equal(footer[0], MCAP_OP_FOOTER);
    for (pos = so; pos < (uint64_t)(footer - d); pos += 9 + r.len) {
        uint64_t start, glen;

        assert_int_equal(scn__mcap_record_at(d + pos, len - pos, &r), 1);
        assert_int_equal(r.opcode, MCAP_OP_SUMMARY_OFFSET);
        start = mcap_get_u64(r.body + 1);
        glen = mcap_get_u64(r.body + 9);
        assert_true(start >= ss && start + glen <= so);
        assert_int_equal(d[start], r.body[0]);
        groups++;
    }
    assert_int_equal(groups, 4); /* schemas, channels, statistics, chunks */

    for (pos = ss; pos < so; pos += 9 + r.len) {
        uint64_t coff, clen, map, mlen = 0;

        assert_int_equal(scn__mcap_record_at(d + pos, so - pos, &r), 1);
        if (r.opcode != MCAP_OP_CHUNK_INDEX)
            continue;
        coff = mcap_get_u64(r.body + 16);
        clen = mcap_get_u64(r.body + 24);
        map = mcap_get_u32(r.body + 32);
        assert_int_equal(d[coff], MCAP_OP_CHUNK);
        assert_true(9 + mcap_get_u64(d + coff + 1) == clen);
        for (uint64_t e = 0; e < map; e += 10) {
            uint16_t ch = mcap_get_u16(r.body + 36 + e);
            uint64_t mi = mcap_get_u64(r.body + 36 + e + 2);
            const uint8_t *recs = d + coff + MCAP_CHUNK_HEAD_LEN;
            uint64_t n = mcap_get_u32(d + mi + 11);
            uint64_t last = 0;

            assert_int_equal(d[mi], MCAP_OP_MESSAGE_INDEX);
            assert_int_equal(mcap_get_u16(d + mi + 9), ch);
            mlen += 9 + mcap_get_u64(d + mi + 1);
            for (uint64_t k = 0; k < n; k += 16) {
                uint64_t t = mcap_get_u64(d + mi + 15 + k);
                uint64_t off = mcap_get_u64(d + mi + 15 + k + 8);

                assert_true(t >= last); /* sorted by log time */
                last = t;
                assert_int_equal(recs[off], MCAP_OP_MESSAGE);
                assert_int_equal(mcap_get_u16(recs + off + 9), ch);
                assert_true(mcap_get_u64(recs + off + 15) == t);
                msgs++;
            }
        }
        assert_true(mcap_get_u64(r.body + 36 + map) == mlen);
    }
    assert_true(msgs == want_msgs);
}

static void test_indexes_point_right(void **state)
{
    scn_recorder_options o;
    scn_recorder *rec;
    uint16_t a, b;
    uint8_t *d;
    size_t len;

    (void)state;
    scn_recorder_options_init(&o);
    o.chunk_size = 512;
    assert_int_equal(scn_recorder_new(path, &o, &rec), 0);
    assert_int_equal(scn_recorder_add_channel(rec, "/a", "A", "{}", &a), 0);
    assert_int_equal(scn_recorder_add_channel(rec, "/b", "B", "{}", &b), 0);
    for (uint64_t i = 0; i < 200; i++) {
        /* Times that go back within a chunk: the index must be sorted. */
        uint64_t t = 1000 + i * 10 - (i % 3) * 15;

        assert_int_equal(
            scn_recorder_write(rec, i % 5 ? a : b, t, t, "{\"v\":1}", 7), 0);
    }
    scn_recorder_free(rec);
    d = slurp(&len);
    check_indexes(d, len, 200);
    free(d);
}

static void test_flush_every_closes_chunks(void **state)
{
    scn_recorder_options o;
    scn_recorder_stats st;
    scn_recorder *rec;
    scn_recording *r;
    scn_recording_info in;
    uint16_t a;

    (void)state;
    scn_recorder_options_init(&o);
    o.flush_every_messages = 10;
    o.flush_interval_ms = 0;
    assert_int_equal(scn_recorder_new(path, &o, &rec), 0);
    assert_int_equal(scn_recorder_add_channel(rec, "/a", "A", "", &a), 0);
    for (int i = 0; i < 35; i++)
        assert_int_equal(scn_recorder_write(rec, a, 1, 1, "{}", 2), 0);
    scn_recorder_get_stats(rec, &st);
    assert_int_equal(st.chunks, 3);
    assert_int_equal(st.flushes, 3);
    assert_int_equal(st.pending, 5);
    assert_int_equal(st.messages, 35);
    /* Everything written so far is in the file: readable before finish. */
    assert_int_equal(scn_recording_open(path, 0, &r), 0);
    scn_recording_get_info(r, &in);
    assert_false(in.complete);
    assert_true(in.truncated);
    assert_int_equal(in.message_count, 30);
    assert_int_equal(in.chunk_count, 3);
    /* A channel without a schema. */
    assert_int_equal(scn_recording_channel_at(r, 0)->schema_id, 0);
    assert_string_equal(scn_recording_channel_at(r, 0)->schema_name, "");
    scn_recording_close(r);
    assert_int_equal(scn_recorder_flush(rec), 0);
    scn_recorder_get_stats(rec, &st);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.chunks, 4);
    scn_recorder_free(rec);
}

static void test_big_message_own_chunk(void **state)
{
    scn_recorder_options o;
    scn_recorder *rec;
    scn_recording *r;
    scn_recording_message m;
    scn_recording_info in;
    size_t big = 10000;
    char *data = malloc(big);
    uint16_t a;

    (void)state;
    assert_non_null(data);
    memset(data, 'x', big);
    scn_recorder_options_init(&o);
    o.chunk_size = 1024;
    assert_int_equal(scn_recorder_new(path, &o, &rec), 0);
    assert_int_equal(scn_recorder_add_channel(rec, "/a", "A", "{}", &a), 0);
    assert_int_equal(scn_recorder_write(rec, a, 1, 1, "{}", 2), 0);
    assert_int_equal(scn_recorder_write(rec, a, 2, 2, data, big), 0);
    assert_int_equal(scn_recorder_write(rec, a, 3, 3, "{}", 2), 0);
    assert_int_equal(scn_recorder_write(rec, a, 4, 4, "", 0), 0);
    scn_recorder_free(rec);
    assert_int_equal(scn_recording_open(path, 0, &r), 0);
    scn_recording_get_info(r, &in);
    assert_int_equal(in.chunk_count, 3);
    assert_int_equal(in.message_count, 4);
    scn_recording_next(r, &m);
    scn_recording_next(r, &m);
    assert_int_equal(m.len, big);
    assert_memory_equal(m.data, data, big);
    scn_recording_next(r, &m);
    scn_recording_next(r, &m);
    assert_int_equal(m.len, 0);
    scn_recording_close(r);
    free(data);
}

static void test_empty_recording(void **state)
{
    scn_recorder *rec;
    scn_recording *r;
    scn_recording_info in;
    scn_recording_message m;
    uint8_t *d;
    size_t len;

    (void)state;
    assert_int_equal(scn_recorder_new(path, NULL, &rec), 0);
    scn_recorder_free(rec);
    assert_int_equal(scn_recording_open(path, 0, &r), 0);
    scn_recording_get_info(r, &in);
    assert_true(in.complete);
    assert_int_equal(in.message_count, 0);
    assert_int_equal(in.channel_count, 0);
    assert_int_equal(scn_recording_next(r, &m), 0);
    scn_recording_close(r);
    d = slurp(&len);
    assert_memory_equal(d, MCAP_MAGIC, MCAP_MAGIC_LEN);
    free(d);
}

static void test_bad_arguments(void **state)
{
    scn_recorder *rec;
    uint16_t id;

    (void)state;
    assert_int_equal(scn_recorder_new(NULL, NULL, &rec), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_recorder_new("/nonexistent-dir/x.mcap", NULL, &rec),
                     SCN_ERR_NO_SUCH_FILE);
    assert_int_equal(scn_recorder_new(path, NULL, &rec), 0);
    assert_int_equal(scn_recorder_stream_channel(
                         rec, (scn_record_stream)SCN_RECORD_STREAM_COUNT, &id),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_recorder_add_channel(rec, NULL, "x", "", &id),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_recorder_write(rec, 0, 1, 1, "{}", 2),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_recorder_finish(rec), 0);
    assert_int_equal(scn_recorder_finish(rec), SCN_ERR_STATE);
    assert_int_equal(scn_recorder_poll(rec), SCN_ERR_STATE);
    scn_recorder_free(rec);
    scn_recorder_free(NULL);
    assert_null(scn_record_stream_topic(SCN_RECORD_STREAM_COUNT));
    assert_string_equal(scn_record_stream_topic(SCN_RECORD_UAV_STATE),
                        "/uav/state");
    assert_string_equal(scn_record_stream_topic(SCN_RECORD_UAV_COMMAND),
                        "/uav/command");
    assert_string_equal(scn_record_stream_topic(SCN_RECORD_INFERENCE),
                        "/inference");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indexes_point_right, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flush_every_closes_chunks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_big_message_own_chunk, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_empty_recording, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
