/*
 * uav_driver: the UAV command channel (libscentience-uav) driven line by
 * line from stdin, for tests that must time their commands against a
 * link fault (tests/integration/test_uav_link_faults.py): scn-uav runs a
 * script at its own pace, a test needs to write a command into a
 * blacked-out link, or an emergency while another is in flight.
 *
 *   uav_driver --url ws://HOST:PORT [--ping-ms N] [--idle-ms N]
 *              [--connect-ms N] [--short-ms N] [--long-ms N]
 *              [--require-airborne]
 *
 * The key comes from SCENTIENCE_API_KEY. stdin, one per line:
 *   send LINE      queue a command (validated, as scn_uav_channel_send_text)
 *   emergency      scn_uav_channel_emergency
 *   flood N SIZE   N raw messages of SIZE bytes ("flood-I-xxx...") straight
 *                  on the channel's session, bypassing the channel: fills
 *                  the socket so that some are still queued when the link
 *                  dies (never do this to a drone)
 *   stats          print the channel's and the session's counters
 *   quit           close (1000) and exit
 * stdout: one JSON object per line, each with "t", the wall-clock time in
 * seconds (CLOCK_REALTIME, the clock of scn-sim's log), and "event":
 * state, active, queued, flooded, reply, error, stats.
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <scentience/scentience.h>
#include <scentience/uav_channel.h>

#include "json_events.h"
#include "stdin_lines.h"

typedef struct driver {
    scn_loop *loop;
    scn_uav_channel *ch;
    int quit;
} driver;

static void on_state(scn_uav_channel *ch, const scn_state_event *e, void *user)
{
    cJSON *ev = json_event("state");

    (void)ch;
    (void)user;
    cJSON_AddStringToObject(ev, "state", scn_state_name(e->state));
    cJSON_AddStringToObject(ev, "reason", scn_err_name(e->reason));
    json_event_emit(ev);
}

static void on_active(scn_uav_channel *ch, int active, void *user)
{
    cJSON *ev = json_event("active");

    (void)ch;
    (void)user;
    cJSON_AddBoolToObject(ev, "active", active);
    json_event_emit(ev);
}

static void on_error(scn_uav_channel *ch, int err, const char *detail,
                     void *user)
{
    cJSON *ev = json_event("error");

    (void)ch;
    (void)user;
    cJSON_AddStringToObject(ev, "err", scn_err_name(err));
    cJSON_AddStringToObject(ev, "detail", detail);
    json_event_emit(ev);
}

static void on_reply(scn_uav_channel *ch, const scn_uav_reply *r, void *user)
{
    cJSON *ev = json_event("reply");

    (void)ch;
    (void)user;
    cJSON_AddStringToObject(ev, "line", r->line);
    cJSON_AddStringToObject(ev, "err", scn_err_name(r->err));
    if (r->answer && r->answer->raw_len)
        cJSON_AddStringToObject(ev, "answer", r->answer->raw);
    else
        cJSON_AddNullToObject(ev, "answer");
    cJSON_AddNumberToObject(ev, "attempts", r->attempts);
    json_event_emit(ev);
}

static void print_stats(driver *d)
{
    scn_uav_channel_stats cs;
    scn_session_stats ss;
    cJSON *ev = json_event("stats");

    scn_uav_channel_get_stats(d->ch, &cs);
    scn_session_get_stats(scn_uav_channel_session(d->ch), &ss);
    cJSON_AddNumberToObject(ev, "sent", (double)cs.sent);
    cJSON_AddNumberToObject(ev, "answered", (double)cs.answered);
    cJSON_AddNumberToObject(ev, "timeouts", (double)cs.timeouts);
    cJSON_AddNumberToObject(ev, "retries", (double)cs.retries);
    cJSON_AddNumberToObject(ev, "late_answers", (double)cs.late_answers);
    cJSON_AddNumberToObject(ev, "link_lost", (double)cs.link_lost);
    cJSON_AddNumberToObject(ev, "unknown_outcome", (double)cs.unknown_outcome);
    cJSON_AddNumberToObject(ev, "links_aborted", (double)ss.links_aborted);
    cJSON_AddNumberToObject(ev, "dropped_unsent", (double)ss.dropped_unsent);
    cJSON_AddNumberToObject(ev, "airborne", scn_uav_channel_airborne(d->ch));
    json_event_emit(ev);
}

static void flood(driver *d, const char *args)
{
    unsigned n = 0, size = 0, ok = 0;
    char msg[1024];
    cJSON *ev;

    if (sscanf(args, "%u %u", &n, &size) != 2 || size < 16 ||
        size > sizeof(msg))
        size = 0;
    for (unsigned i = 0; size && i < n; i++) {
        int len = snprintf(msg, sizeof(msg), "flood-%u-", i);

        memset(msg + len, 'x', size - (unsigned)len);
        ok += scn_session_send(scn_uav_channel_session(d->ch), SCN_LANE_CONTROL,
                               msg, size) == 0;
    }
    ev = json_event("flooded");
    cJSON_AddNumberToObject(ev, "queued", ok);
    json_event_emit(ev);
}

static void command(driver *d, char *line)
{
    char why[256] = "";
    cJSON *ev;
    int rc;

    line[strcspn(line, "\r")] = '\0';
    if (!strncmp(line, "send ", 5)) {
        rc = scn_uav_channel_send_text(d->ch, line + 5, on_reply, d, why,
                                       sizeof(why));
        ev = json_event("queued");
        cJSON_AddStringToObject(ev, "line", line + 5);
        cJSON_AddStringToObject(ev, "rc", scn_err_name(rc));
        cJSON_AddStringToObject(ev, "why", why);
        json_event_emit(ev);
    } else if (!strcmp(line, "emergency")) {
        rc = scn_uav_channel_emergency(d->ch, on_reply, d);
        ev = json_event("queued");
        cJSON_AddStringToObject(ev, "line", "emergency");
        cJSON_AddStringToObject(ev, "rc", scn_err_name(rc));
        json_event_emit(ev);
    } else if (!strncmp(line, "flood ", 6)) {
        flood(d, line + 6);
    } else if (!strcmp(line, "stats")) {
        print_stats(d);
    } else if (!strcmp(line, "quit")) {
        d->quit = 1;
    } else {
        ev = json_event("error");
        cJSON_AddStringToObject(ev, "err", "USAGE");
        cJSON_AddStringToObject(ev, "detail", line);
        json_event_emit(ev);
    }
}

static void on_line(void *user, char *line)
{
    command(user, line);
}

static int parse_ms(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);

    if (*end || !*s || v > 600000)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},
        {"ping-ms", required_argument, NULL, 'p'},
        {"idle-ms", required_argument, NULL, 'i'},
        {"connect-ms", required_argument, NULL, 'c'},
        {"short-ms", required_argument, NULL, 's'},
        {"long-ms", required_argument, NULL, 'l'},
        {"require-airborne", no_argument, NULL, 'a'},
        {NULL, 0, NULL, 0}};
    scn_uav_channel_options co;
    scn_session_options link_so;
    driver d = {0};
    int opt, bad = 0, rc;

    scn_uav_channel_options_init(&co);
    scn_session_options_init(&link_so);
    co.session = &link_so;
    link_so.backoff.initial_ms = 200;
    link_so.backoff.max_ms = 1000;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'u':
            link_so.url = optarg;
            break;
        case 'p':
            bad |= parse_ms(optarg, &co.ping_interval_ms);
            break;
        case 'i':
            bad |= parse_ms(optarg, &co.idle_timeout_ms);
            break;
        case 'c':
            bad |= parse_ms(optarg, &link_so.connect_timeout_ms);
            break;
        case 's':
            bad |= parse_ms(optarg, &co.short_timeout_ms);
            break;
        case 'l':
            bad |= parse_ms(optarg, &co.long_timeout_ms);
            break;
        case 'a':
            co.require_airborne = 1;
            break;
        default:
            bad = 1;
        }
    }
    if (bad || !link_so.url) {
        fputs("usage: uav_driver --url URL [--ping-ms N] [--idle-ms N] "
              "[--connect-ms N] [--short-ms N] [--long-ms N] "
              "[--require-airborne]\n",
              stderr);
        return 64;
    }
    co.on_state = on_state;
    co.on_active = on_active;
    co.on_error = on_error;
    co.user = &d;
    if (scn_loop_new(NULL, &d.loop))
        return 70;
    if ((rc = scn_uav_channel_new(d.loop, &co, &d.ch)) != 0) {
        fprintf(stderr, "uav_driver: %s\n", scn_strerror(rc));
        scn_loop_free(d.loop);
        return rc == SCN_ERR_INVALID_ARG ? 64 : 70;
    }
    stdin_lines_run(d.loop, on_line, &d, &d.quit);
    if (scn_session_close(scn_uav_channel_session(d.ch)) == 0) {
        uint64_t until = scn_loop_now_ms(d.loop) + 1000;

        while (scn_session_state(scn_uav_channel_session(d.ch)) !=
                   SCN_STATE_CLOSED &&
               scn_loop_now_ms(d.loop) < until)
            scn_loop_run_once(d.loop, 20);
    }
    scn_uav_channel_free(d.ch);
    scn_loop_free(d.loop);
    return 0;
}
