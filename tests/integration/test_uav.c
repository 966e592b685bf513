/*
 * The UAV layer against a real `scn-sim uav`: the documented sample session
 * with state and video flowing to our servers, emergency overtaking queued
 * motion, out-of-range commands that never reach the drone, a link dropped
 * mid-command, and state from an address that is not the drone's.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>
#include <scentience/uav_channel.h>
#include <scentience/uav_state_server.h>
#include <scentience/uav_video_server.h>

#include "harness.h"

#define KEY         "SCN_TEST_uavchannel00000001"
#define MAX_REPLIES 64

typedef struct fixture {
    sim_proc sim;
    scn_loop *loop;
    FILE *log;
    scn_uav_channel *ch;
    scn_uav_state_server *state;
    scn_uav_video_server *video;
    char video_path[256];
    int active;
    int states;
    int stale_events, fresh_events;
    int replies;
    int reply_err[MAX_REPLIES];
    char reply_line[MAX_REPLIES][SCN_UAV_LINE_MAX + 1];
    char reply_raw[MAX_REPLIES][SCN_UAV_RAW_MAX + 1];
} fixture;

static void on_active(scn_uav_channel *ch, int active, void *user)
{
    (void)ch;
    ((fixture *)user)->active = active;
}

static void on_reply(scn_uav_channel *ch, const scn_uav_reply *r, void *user)
{
    fixture *f = user;

    (void)ch;
    if (f->replies >= MAX_REPLIES)
        return;
    f->reply_err[f->replies] = r->err;
    snprintf(f->reply_line[f->replies], sizeof(f->reply_line[0]), "%s",
             r->line);
    snprintf(f->reply_raw[f->replies], sizeof(f->reply_raw[0]), "%s",
             r->answer ? r->answer->raw : "");
    f->replies++;
}

static void on_stale(scn_uav_state_server *srv, int stale, void *user)
{
    fixture *f = user;

    (void)srv;
    if (stale)
        f->stale_events++;
    else
        f->fresh_events++;
}

static void on_drone_state(scn_uav_state_server *srv, const scn_uav_state *st,
                           void *user)
{
    (void)srv;
    (void)st;
    ((fixture *)user)->states++;
}

/* Starts our state and video servers (allowing state_peer), then the
 * drone simulator pointed at them (on sim_port: 0 for any, a reserved one
 * for a simulator that will be restarted), then the command channel. */
static int start(void **state, const char *state_peer, int sim_port)
{
    fixture *f = calloc(1, sizeof(*f));
    scn_loop_options lo;
    scn_uav_state_server_options so;
    scn_uav_video_server_options vo;
    scn_uav_channel_options co;
    scn_session_options link_so;
    char sport[16], vport[16], name[64], path[256];

    *state = f;
    snprintf(name, sizeof(name), "uav-%d.log", (int)getpid());
    f->log = fopen(test_log_path(name, path, sizeof(path)), "a");
    scn_loop_options_init(&lo);
    lo.log = harness_log_to_file;
    lo.log_user = f->log;
    lo.log_level = SCN_LOG_DEBUG;
    if (scn_loop_new(&lo, &f->loop))
        return -1;
    scn_uav_state_server_options_init(&so);
    so.bind_address = "127.0.0.1";
    so.port = 0;
    so.drone_url = "ws://127.0.0.1:8889";
    so.allow_peer = state_peer;
    so.on_state = on_drone_state;
    so.on_stale = on_stale;
    /* Scaled: a slow run must not see a live drone go stale. */
    so.stale_ms = scaled_ms(400);
    so.user = f;
    if (scn_uav_state_server_new(f->loop, &so, &f->state))
        return -1;
    snprintf(name, sizeof(name), "uav-%d.h264", (int)getpid());
    test_secret_path(name, f->video_path, sizeof(f->video_path));
    unlink(f->video_path);
    scn_uav_video_server_options_init(&vo);
    vo.bind_address = "127.0.0.1";
    vo.port = 0;
    vo.drone_url = "ws://127.0.0.1:8889";
    vo.out_path = f->video_path;
    if (scn_uav_video_server_new(f->loop, &vo, &f->video))
        return -1;
    snprintf(sport, sizeof(sport), "%d", scn_uav_state_server_port(f->state));
    snprintf(vport, sizeof(vport), "%d", scn_uav_video_server_port(f->video));
    const char *args[] = {"uav",       "--time-scale",
                          "20",        "--state-host",
                          "127.0.0.1", "--state-port",
                          sport,       "--video-port",
                          vport,       NULL};
    if (sim_port < 0 || sim_start(&f->sim, sim_port, args))
        return -1;
    scn_uav_channel_options_init(&co);
    scn_session_options_init(&link_so);
    co.session = &link_so;
    link_so.url = f->sim.url;
    link_so.api_key = KEY;
    link_so.backoff.initial_ms = 100;
    link_so.backoff.max_ms = 300;
    co.on_active = on_active;
    co.user = f;
    return scn_uav_channel_new(f->loop, &co, &f->ch) ? -1 : 0;
}

static int setup(void **state)
{
    return start(state, NULL, 0);
}

static int setup_restartable(void **state)
{
    return start(state, NULL, reserve_port());
}

static int setup_foreign_state(void **state)
{
    /* Only 127.0.0.2 may push state; the simulator comes from 127.0.0.1. */
    return start(state, "127.0.0.2", 0);
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc;

    scn_uav_channel_free(f->ch);
    scn_uav_video_server_free(f->video);
    scn_uav_state_server_free(f->state);
    scn_loop_free(f->loop);
    rc = sim_stop(&f->sim);
    unlink(f->video_path);
    if (f->log)
        fclose(f->log);
    free(f);
    return rc;
}

/* Waits (scaled, like every harness wait) until *counter >= n. */
static bool until_count(fixture *f, const int *counter, int n, uint32_t ms)
{
    uint64_t end = deadline_ms(f->loop, ms);

    while (*counter < n && scn_loop_now_ms(f->loop) < end)
        scn_loop_run_once(f->loop, 20);
    return *counter >= n;
}

static bool until_replies(fixture *f, int n, uint32_t ms)
{
    return until_count(f, &f->replies, n, ms);
}

static bool until_active(fixture *f, int want, uint32_t ms)
{
    uint64_t end = deadline_ms(f->loop, ms);

    while (f->active != want && scn_loop_now_ms(f->loop) < end)
        scn_loop_run_once(f->loop, 20);
    return f->active == want;
}

static void send_line(fixture *f, const char *line)
{
    char why[256];

    assert_int_equal(
        scn_uav_channel_send_text(f->ch, line, on_reply, f, why, sizeof(why)),
        0);
}

/* Sends one line and waits for its reply; returns the reply index. */
static int roundtrip(fixture *f, const char *line)
{
    int want = f->replies + 1;

    send_line(f, line);
    assert_true(until_replies(f, want, 15000));
    return want - 1;
}

static unsigned long file_crc(const char *path, long *size)
{
    FILE *fp = fopen(path, "rb");
    unsigned char buf[8192];
    unsigned long crc = crc32(0L, Z_NULL, 0);
    size_t n;

    *size = 0;
    if (!fp)
        return crc;
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
        crc = crc32(crc, buf, (uInt)n);
        *size += (long)n;
    }
    fclose(fp);
    return crc;
}

static void test_documented_sample_session(void **state)
{
    static const char *const session[] = {
        "takeoff", "battery?", "speed 50", "go 100 0 50 30",
        "oioon",   "oio nh3",  "streamon",
    };
    fixture *f = *state;
    scn_uav_video_stats vs;
    scn_uav_state st;
    double crc = -1, bytes = -1;
    long size;
    int i;

    assert_true(until_active(f, 1, 5000)); /* hello_scentience -> ok */
    for (size_t k = 0; k < sizeof(session) / sizeof(session[0]); k++) {
        i = roundtrip(f, session[k]);
        assert_int_equal(f->reply_err[i], 0);
    }
    assert_string_equal(f->reply_line[1], "battery?");
    assert_true(atoi(f->reply_raw[1]) > 0 && atoi(f->reply_raw[1]) <= 100);
    /* State flows at the simulator's 10 Hz, and video while streaming. */
    assert_true(until_count(f, &f->states, f->states + 5, 5000));
    assert_int_equal(scn_uav_state_server_latest(f->state, &st, NULL), 0);
    double h = 0;
    assert_int_equal(scn_uav_state_get(&st, SCN_UAV_F_H, &h), 0);
    assert_true(h > 0); /* flying */
    assert_int_equal(f->reply_err[roundtrip(f, "streamoff")], 0);
    assert_int_equal(f->reply_err[roundtrip(f, "oiooff")], 0);
    assert_int_equal(f->reply_err[roundtrip(f, "land")], 0);

    /* The video bytes written are exactly the bytes the drone sent. */
    assert_true(sim_wait_log(&f->sim, "\"video_stop\"", 1, 3000) >= 1);
    assert_int_equal(sim_log_number(&f->sim, "\"video_stop\"", "crc32", &crc),
                     0);
    assert_int_equal(sim_log_number(&f->sim, "\"video_stop\"", "bytes", &bytes),
                     0);
    scn_uav_video_server_get_stats(f->video, &vs);
    assert_true(vs.frames > 0);
    assert_int_equal(vs.bytes, (uint64_t)bytes);
    scn_uav_video_server_free(f->video); /* flushes the file */
    f->video = NULL;
    assert_int_equal(file_crc(f->video_path, &size), (unsigned long)crc);
    assert_int_equal(size, (long)bytes);
}

static void test_emergency_overtakes_queued_motion(void **state)
{
    fixture *f = *state;
    int em, fwd;

    assert_true(until_active(f, 1, 5000));
    assert_int_equal(f->reply_err[roundtrip(f, "takeoff")], 0);
    send_line(f, "forward 400"); /* in flight for a while */
    send_line(f, "cw 90");       /* queued behind it */
    /* The drone has it (and takes a while to fly it). */
    assert_true(
        run_until_logged(f->loop, &f->sim, "\"raw\":\"forward 400\"", 1, 5000));
    assert_int_equal(f->replies, 1);
    assert_int_equal(scn_uav_channel_emergency(f->ch, on_reply, f), 0);
    assert_true(until_replies(f, 4, 5000));
    assert_string_equal(f->reply_line[1], "forward 400");
    assert_int_equal(f->reply_err[1], SCN_ERR_UAV_SUPERSEDED);
    assert_string_equal(f->reply_line[2], "cw 90");
    assert_int_equal(f->reply_err[2], SCN_ERR_UAV_SUPERSEDED);
    assert_string_equal(f->reply_line[3], "emergency");
    em = sim_wait_log(&f->sim, "\"raw\":\"emergency\"", 1, 2000);
    assert_int_equal(em, 1);
    run_for(f->loop, 500); /* time for a wrongly released rotation */
    /* The queued rotation never reached the drone. */
    assert_int_equal(sim_log_count(&f->sim, "\"raw\":\"cw 90\""), 0);
    fwd = sim_log_index(&f->sim, "\"raw\":\"forward 400\"");
    em = sim_log_index(&f->sim, "\"raw\":\"emergency\"");
    assert_true(fwd >= 0 && em >= 0);
    assert_true(fwd < em);
}

static void test_out_of_range_never_sent(void **state)
{
    fixture *f = *state;
    char why[256];
    scn_uav_cmd cmd;

    assert_true(until_active(f, 1, 5000));
    assert_int_equal(scn_uav_channel_send_text(f->ch, "up 600", on_reply, f,
                                               why, sizeof(why)),
                     SCN_ERR_OUT_OF_RANGE);
    assert_non_null(strstr(why, "20-500"));
    memset(&cmd, 0, sizeof(cmd));
    cmd.id = SCN_UAV_CW;
    cmd.arg[0] = 361;
    assert_int_equal(
        scn_uav_channel_send(f->ch, &cmd, on_reply, f, why, sizeof(why)),
        SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(f->reply_err[roundtrip(f, "battery?")], 0);
    run_for(f->loop, 200);
    assert_int_equal(sim_log_count(&f->sim, "\"raw\":\"up 600\""), 0);
    assert_int_equal(sim_log_count(&f->sim, "\"raw\":\"cw 361\""), 0);
    assert_int_equal(f->replies, 1); /* refused calls never call back */
}

static void test_link_drop_mid_command(void **state)
{
    fixture *f = *state;
    int i;

    assert_true(until_active(f, 1, 5000));
    assert_int_equal(f->reply_err[roundtrip(f, "takeoff")], 0);
    send_line(f, "forward 500");
    /* Dropped while the drone flies it, not before it was sent. */
    assert_true(
        run_until_logged(f->loop, &f->sim, "\"raw\":\"forward 500\"", 1, 5000));
    assert_int_equal(sim_signal(&f->sim, SIGUSR2), 0);
    assert_true(until_replies(f, 2, 5000));
    /* It was written: the drone may have started the move. */
    assert_int_equal(f->reply_err[1], SCN_ERR_UAV_OUTCOME_UNKNOWN);
    /* The channel comes back by itself and activates again. */
    assert_int_equal(f->active, 0);
    assert_true(until_active(f, 1, 5000));
    i = roundtrip(f, "battery?");
    assert_int_equal(f->reply_err[i], 0);
}

static void test_state_goes_stale_and_recovers(void **state)
{
    fixture *f = *state;
    scn_uav_state_stats st;

    assert_true(until_active(f, 1, 5000));
    assert_true(until_count(f, &f->states, 1, 5000));
    assert_int_equal(f->stale_events, 0);
    /* The drone goes away: no state, so it turns stale once. */
    assert_int_equal(sim_kill(&f->sim), 0);
    assert_true(until_count(f, &f->stale_events, 1, 5000));
    run_for(f->loop, 500); /* and only once */
    assert_int_equal(f->stale_events, 1);
    assert_int_equal(f->fresh_events, 0);
    /* It comes back: the channel activates again, state flows again. */
    assert_int_equal(sim_restart(&f->sim), 0);
    assert_true(until_active(f, 1, 5000));
    assert_true(until_count(f, &f->fresh_events, 1, 5000));
    run_for(f->loop, 500);
    assert_int_equal(f->fresh_events, 1);
    assert_int_equal(f->stale_events, 1);
    scn_uav_state_server_get_stats(f->state, &st);
    assert_int_equal(st.stale_events, 1);
    assert_true(st.connections >= 2);
}

static bool until_refused(fixture *f, uint32_t ms)
{
    uint64_t end = deadline_ms(f->loop, ms);
    scn_uav_state_stats st;

    for (;;) {
        scn_uav_state_server_get_stats(f->state, &st);
        if (st.refused_peers >= 1)
            return true;
        if (scn_loop_now_ms(f->loop) >= end)
            return false;
        scn_loop_run_once(f->loop, 20);
    }
}

static void test_state_from_other_address_refused(void **state)
{
    fixture *f = *state;
    scn_uav_state_stats st;

    assert_true(until_active(f, 1, 5000));
    assert_true(until_refused(f, 5000));
    run_for(f->loop, 500); /* and stays refused */
    scn_uav_state_server_get_stats(f->state, &st);
    assert_int_equal(st.received, 0);
    assert_int_equal(f->states, 0);
    assert_true(st.refused_peers >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_documented_sample_session, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_emergency_overtakes_queued_motion,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_range_never_sent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_link_drop_mid_command, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_state_goes_stale_and_recovers,
                                        setup_restartable, teardown),
        cmocka_unit_test_setup_teardown(test_state_from_other_address_refused,
                                        setup_foreign_state, teardown),
    };
    unsetenv("SCENTIENCE_API_KEY");
    return test_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
