/*
 * The real command channel against `scn-sim uav --late-answers` (issue 9,
 * item 27): timeouts, retries and resynchronisation meet late answers on a
 * real link, not a fake one, and every claim is checked on what the drone
 * simulator logged (what it received, what it answered, and when):
 *
 * - a drone slower than the short timeout is still activated, by the late
 *   answer to the one hello_scentience (not one hello after another);
 * - a read that times out is written again only once its late answer came
 *   (resynchronisation), and reported TIMEOUT after its second attempt;
 * - a takeoff and a move that time out are never written twice, and their
 *   late "ok" is never taken for the answer of the command behind them,
 *   which waits for it and gets its own answer;
 * - a takeoff that was never answered in time leaves the drone's flight
 *   unknown to the channel.
 */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <scentience/uav_channel.h>

#include "harness.h"

#define KEY       "SCN_TEST_uavlateanswers00001"
#define LATE_MS   1500
#define MAX_REPLY 16
#define MAX_EVENT 256

typedef struct fixture {
    sim_proc sim;
    scn_loop *loop;
    FILE *log;
    scn_uav_channel *ch;
    int active;
    int replies;
    int err[MAX_REPLY];
    uint32_t attempts[MAX_REPLY];
    char raw[MAX_REPLY][SCN_UAV_RAW_MAX + 1];
} fixture;

/* One line of the simulator's log: its event, command or answer, time. */
typedef struct sim_event {
    char event[16];
    char raw[64]; /* command: what was received; answer: the command */
    char answer[64];
    double t; /* seconds, from "ts" */
} sim_event;

static void on_active(scn_uav_channel *ch, int active, void *user)
{
    (void)ch;
    ((fixture *)user)->active = active;
}

static void on_reply(scn_uav_channel *ch, const scn_uav_reply *r, void *user)
{
    fixture *f = user;

    (void)ch;
    if (f->replies >= MAX_REPLY)
        return;
    f->err[f->replies] = r->err;
    f->attempts[f->replies] = r->attempts;
    snprintf(f->raw[f->replies], sizeof(f->raw[0]), "%s",
             r->answer ? r->answer->raw : "");
    f->replies++;
}

/* The drone answers every command 1.5 s late; the channel's timeouts
 * (short_ms, long_ms) are set on either side of that. All three scaled
 * alike: a slow run keeps the margins. */
static int start(void **state, uint32_t short_ms, uint32_t long_ms)
{
    fixture *f = calloc(1, sizeof(*f));
    scn_loop_options lo;
    scn_uav_channel_options co;
    scn_session_options link_so;
    char name[64], path[256], late[16];
    const char *args[] = {"uav", "--time-scale", "20", "--late-answers",
                          late,  "--state-port", "1",  NULL};

    *state = f;
    if (!f)
        return -1;
    snprintf(late, sizeof(late), "%u", (unsigned)scaled_ms(LATE_MS));
    snprintf(name, sizeof(name), "uav-late-%d.log", (int)getpid());
    f->log = fopen(test_log_path(name, path, sizeof(path)), "a");
    scn_loop_options_init(&lo);
    lo.log = harness_log_to_file;
    lo.log_user = f->log;
    lo.log_level = SCN_LOG_DEBUG;
    if (scn_loop_new(&lo, &f->loop) || sim_start(&f->sim, 0, args))
        return -1;
    scn_uav_channel_options_init(&co);
    scn_session_options_init(&link_so);
    co.session = &link_so;
    link_so.url = f->sim.url;
    link_so.api_key = KEY;
    co.short_timeout_ms = scaled_ms(short_ms);
    co.long_timeout_ms = scaled_ms(long_ms);
    co.resync_ms = scaled_ms(3000); /* ample: late answers come within it */
    co.read_retries = 1;
    co.on_active = on_active;
    co.user = f;
    return scn_uav_channel_new(f->loop, &co, &f->ch) ? -1 : 0;
}

/* Reads answered in time, moves not. */
static int setup_slow_moves(void **state)
{
    return start(state, 3000, 1000);
}

/* Nothing answered in time but what waits long. */
static int setup_slow_drone(void **state)
{
    return start(state, 1000, 20000);
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc;

    scn_uav_channel_free(f->ch);
    scn_loop_free(f->loop);
    rc = sim_stop(&f->sim);
    if (f->log)
        fclose(f->log);
    free(f);
    return rc;
}

static bool until_replies(fixture *f, int n, uint32_t ms)
{
    uint64_t end = deadline_ms(f->loop, ms);

    while (f->replies < n && scn_loop_now_ms(f->loop) < end)
        scn_loop_run_once(f->loop, 20);
    return f->replies >= n;
}

static bool until_active(fixture *f, uint32_t ms)
{
    uint64_t end = deadline_ms(f->loop, ms);

    while (!f->active && scn_loop_now_ms(f->loop) < end)
        scn_loop_run_once(f->loop, 20);
    return f->active;
}

static void send_line(fixture *f, const char *line)
{
    char why[256];

    assert_int_equal(
        scn_uav_channel_send_text(f->ch, line, on_reply, f, why, sizeof(why)),
        0);
}

static double ts_seconds(const char *ts)
{
    struct tm tm;
    int ms = 0;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(ts, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm) + ms / 1000.0;
}

static void copy_str(cJSON *o, const char *name, char *out, size_t cap)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    snprintf(out, cap, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

/* The simulator's "command" and "answer" events, in log order. */
static int sim_events(const fixture *f, sim_event *out, int max)
{
    FILE *fp = fopen(f->sim.log_path, "r");
    char line[2048];
    int n = 0;

    assert_non_null(fp);
    while (n < max && fgets(line, sizeof(line), fp)) {
        cJSON *o = cJSON_Parse(line);
        char event[16], ts[40];

        copy_str(o, "event", event, sizeof(event));
        if (!strcmp(event, "command") || !strcmp(event, "answer")) {
            sim_event *e = &out[n++];

            memset(e, 0, sizeof(*e));
            snprintf(e->event, sizeof(e->event), "%s", event);
            copy_str(o, !strcmp(event, "command") ? "raw" : "cmd", e->raw,
                     sizeof(e->raw));
            copy_str(o, "answer", e->answer, sizeof(e->answer));
            copy_str(o, "ts", ts, sizeof(ts));
            e->t = ts_seconds(ts);
        }
        cJSON_Delete(o);
    }
    fclose(fp);
    return n;
}

/* The k-th (0-based) event of that kind about raw, or NULL. */
static const sim_event *nth(const sim_event *ev, int n, const char *event,
                            const char *raw, int k)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(ev[i].event, event) && !strcmp(ev[i].raw, raw) && k-- == 0)
            return &ev[i];
    return NULL;
}

static int count(const sim_event *ev, int n, const char *event, const char *raw)
{
    int c = 0;

    while (nth(ev, n, event, raw, c))
        c++;
    return c;
}

/* The drone wrote the k-th answer to `answered` before it received the
 * j-th `next` command: the command waited for that answer. */
static void assert_waited(const sim_event *ev, int n, const char *answered,
                          int k, const char *next, int j)
{
    const sim_event *a = nth(ev, n, "answer", answered, k);
    const sim_event *c = nth(ev, n, "command", next, j);

    assert_non_null(a);
    assert_non_null(c);
    assert_true(c->t >= a->t);
}

static void test_slow_drone_activated_by_its_late_answer(void **state)
{
    fixture *f = *state;
    sim_event ev[MAX_EVENT];
    scn_uav_channel_stats st;
    int n;

    /* hello_scentience times out (1 s) before its answer (1.5 s): the late
     * "ok" is its answer, nothing else having been sent. */
    assert_true(until_active(f, 15000));
    n = sim_events(f, ev, MAX_EVENT);
    assert_int_equal(count(ev, n, "command", "hello_scentience"), 1);

    /* A read, answered too late twice: written again only after the first
     * late answer was out, then reported as timed out. */
    send_line(f, "battery?");
    assert_true(until_replies(f, 1, 15000));
    assert_int_equal(f->err[0], SCN_ERR_TIMEOUT);
    assert_int_equal(f->attempts[0], 2);
    /* The second late answer. */
    assert_int_equal(run_until_logged(f->loop, &f->sim,
                                      "\"cmd\":\"battery?\",\"answer\"", 2,
                                      5000),
                     2);
    n = sim_events(f, ev, MAX_EVENT);
    assert_int_equal(count(ev, n, "command", "battery?"), 2);
    assert_waited(ev, n, "battery?", 0, "battery?", 1);
    scn_uav_channel_get_stats(f->ch, &st);
    assert_int_equal(st.retries, 1);
    assert_int_equal(st.timeouts, 3); /* hello, battery? twice */
    assert_int_equal(st.late_answers, 3);
    assert_int_equal(st.answered, 0);
}

static void test_late_ok_never_answers_the_next_command(void **state)
{
    fixture *f = *state;
    sim_event ev[MAX_EVENT];
    scn_uav_channel_stats st;
    int n;

    assert_true(until_active(f, 15000));
    /* takeoff times out (1 s) long before its "ok" (1.5 s + the climb);
     * battery?, queued behind it, waits for that ok and gets its own. */
    send_line(f, "takeoff");
    send_line(f, "battery?");
    assert_true(until_replies(f, 2, 15000));
    assert_int_equal(f->err[0], SCN_ERR_TIMEOUT);
    assert_int_equal(f->attempts[0], 1);
    assert_int_equal(f->err[1], 0);
    assert_string_not_equal(f->raw[1], "ok");
    assert_true(atoi(f->raw[1]) > 0);
    /* Never believed airborne: its takeoff was not answered in time. */
    assert_int_equal(scn_uav_channel_airborne(f->ch), -1);

    /* The same for a move: never written twice, its ok absorbed. */
    send_line(f, "up 50");
    send_line(f, "sn?");
    assert_true(until_replies(f, 4, 15000));
    assert_int_equal(f->err[2], SCN_ERR_TIMEOUT);
    assert_int_equal(f->err[3], 0);
    assert_true(strncmp(f->raw[3], "SCN", 3) == 0);
    run_for(f->loop, 500);

    n = sim_events(f, ev, MAX_EVENT);
    assert_int_equal(count(ev, n, "command", "takeoff"), 1);
    assert_int_equal(count(ev, n, "command", "up 50"), 1);
    assert_waited(ev, n, "takeoff", 0, "battery?", 0);
    assert_string_equal(nth(ev, n, "answer", "takeoff", 0)->answer, "ok");
    assert_waited(ev, n, "up", 0, "sn?", 0);
    scn_uav_channel_get_stats(f->ch, &st);
    assert_int_equal(st.retries, 0);
    assert_int_equal(st.late_answers, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_slow_drone_activated_by_its_late_answer, setup_slow_drone,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_late_ok_never_answers_the_next_command, setup_slow_moves,
            teardown),
    };
    return test_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
