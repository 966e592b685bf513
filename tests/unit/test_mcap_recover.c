/* lib/mcap/mcap_recover.c: a recording whose writer was killed becomes a
 * complete file with everything up to the last flush, unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "runner.h"
#include <scentience/error.h>
#include <scentience/recorder.h>
#include <scentience/recording.h>

static char in_path[64], out_path[64];

static int setup(void **state)
{
    int a, b;

    (void)state;
    test_tmp_path(in_path, sizeof(in_path), "scn-test-mcap-in-XXXXXX");
    test_tmp_path(out_path, sizeof(out_path), "scn-test-mcap-out-XXXXXX");
    a = mkstemp(in_path);
    b = mkstemp(out_path);
    if (a < 0 || b < 0)
        return -1;
    close(a);
    close(b);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(in_path);
    unlink(out_path);
    return 0;
}

static void message_text(char *buf, size_t cap, uint64_t i)
{
    snprintf(buf, cap, "{\"UID\":\"SCN001\",\"SEQ\":%llu,\"CO2\":%llu.25}",
             (unsigned long long)i, (unsigned long long)i * 3);
}

/* Writes n frames and m events through the recorder, flushing every
 * `every` messages, then dies by SIGKILL without finishing: a real crash,
 * in a child process. */
static void record_and_die(uint64_t n, uint32_t every)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        scn_recorder_options o;
        scn_recorder *rec;
        uint16_t olf, ev;
        char buf[128];

        scn_recorder_options_init(&o);
        o.flush_every_messages = every;
        o.flush_interval_ms = 0;
        if (scn_recorder_new(in_path, &o, &rec) ||
            scn_recorder_stream_channel(rec, SCN_RECORD_OLFACTION, &olf) ||
            scn_recorder_stream_channel(rec, SCN_RECORD_EVENTS, &ev))
            _exit(1);
        for (uint64_t i = 0; i < n; i++) {
            message_text(buf, sizeof(buf), i);
            if (scn_recorder_write(rec, i % 10 == 9 ? ev : olf,
                                   1000000 + i * 1000, 500000 + i, buf,
                                   strlen(buf)))
                _exit(1);
        }
        kill(getpid(), SIGKILL);
        _exit(2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void test_recover_killed_writer(void **state)
{
    scn_recording_info kept, in;
    scn_recording_message m;
    scn_recording *r;
    char want[128];

    (void)state;
    /* 1050 messages, flushed every 100: 1000 reached the file. */
    record_and_die(1050, 100);
    assert_int_equal(scn_recording_open(in_path, 0, &r), 0);
    scn_recording_get_info(r, &in);
    assert_false(in.complete);
    assert_int_equal(in.message_count, 1000);
    scn_recording_close(r);

    assert_int_equal(scn_recording_recover(in_path, out_path, &kept), 0);
    assert_int_equal(kept.message_count, 1000);
    assert_false(kept.complete);
    assert_int_equal(scn_recording_open(out_path, 0, &r), 0);
    scn_recording_get_info(r, &in);
    assert_true(in.complete);
    assert_int_equal(in.message_count, 1000);
    assert_int_equal(in.channel_count, 2);
    assert_int_equal(scn_recording_find_channel(r, "/olfaction")->message_count,
                     900);
    assert_string_equal(scn_recording_find_channel(r, "/events")->schema_data,
                        scn_record_stream_schema(SCN_RECORD_EVENTS));
    for (uint64_t i = 0; i < 1000; i++) {
        assert_int_equal(scn_recording_next(r, &m), 1);
        message_text(want, sizeof(want), i);
        assert_int_equal(m.len, strlen(want));
        assert_memory_equal(m.data, want, m.len);
        assert_true(m.log_time_ns == 1000000 + i * 1000);
        assert_true(m.publish_time_ns == 500000 + i);
        /* Sequence numbers as the writer gave them, per channel. */
        assert_int_equal(m.sequence, i % 10 == 9 ? i / 10 : i - i / 10);
    }
    assert_int_equal(scn_recording_next(r, &m), 0);
    scn_recording_close(r);
}

/* A file cut mid-chunk (as a kill during a write leaves it). */
static void test_recover_cut_file(void **state)
{
    scn_recorder_options o;
    scn_recorder *rec;
    scn_recording_info kept, in;
    scn_recording *r;
    uint16_t a;
    long size;
    FILE *f;

    (void)state;
    scn_recorder_options_init(&o);
    o.flush_every_messages = 7;
    assert_int_equal(scn_recorder_new(in_path, &o, &rec), 0);
    assert_int_equal(scn_recorder_add_channel(rec, "/x", "X", "{}", &a), 0);
    for (uint64_t i = 0; i < 70; i++)
        assert_int_equal(scn_recorder_write(rec, a, i, i, "{\"a\":1}", 7), 0);
    scn_recorder_free(rec);
    f = fopen(in_path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fclose(f);
    /* Cut into the summary: everything is still there. */
    assert_int_equal(truncate(in_path, size - 40), 0);
    assert_int_equal(scn_recording_recover(in_path, out_path, &kept), 0);
    assert_int_equal(kept.message_count, 70);
    /* Cut well into the data. */
    assert_int_equal(truncate(in_path, size / 2), 0);
    assert_int_equal(scn_recording_recover(in_path, out_path, &kept), 0);
    assert_true(kept.message_count > 0 && kept.message_count < 70);
    assert_int_equal(kept.message_count % 7, 0);
    assert_int_equal(scn_recording_open(out_path, 0, &r), 0);
    scn_recording_get_info(r, &in);
    assert_true(in.complete);
    assert_int_equal(in.message_count, kept.message_count);
    scn_recording_close(r);
}

static void test_recover_refusals(void **state)
{
    scn_recorder *rec;
    FILE *f;

    (void)state;
    assert_int_equal(scn_recorder_new(in_path, NULL, &rec), 0);
    scn_recorder_free(rec);
    assert_int_equal(scn_recording_recover(in_path, in_path, NULL),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_recording_recover(NULL, out_path, NULL),
                     SCN_ERR_INVALID_ARG);
    f = fopen(in_path, "wb");
    assert_non_null(f);
    fputs("not an mcap file at all", f);
    fclose(f);
    assert_int_equal(scn_recording_recover(in_path, out_path, NULL),
                     SCN_ERR_MCAP_FORMAT);
    /* A failed recovery leaves no half-written output behind. */
    unlink(out_path);
    assert_int_equal(
        scn_recording_recover(in_path, "/nonexistent-dir/out.mcap", NULL),
        SCN_ERR_MCAP_FORMAT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recover_killed_writer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_recover_cut_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
