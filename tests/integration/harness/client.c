/* The recording test client. */
#include "client.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_state(scn_session *s, const scn_state_event *ev, void *user)
{
    client *c = user;

    (void)s;
    if (c->nevents < CLIENT_MAX_EVENTS)
        c->events[c->nevents++] = *ev;
    c->state = ev->state;
    if (ev->state == SCN_STATE_OPEN) {
        c->opens++;
        c->last_seq = 0;
    }
}

static void on_frame(scn_session *s, const scn_frame *f, void *user)
{
    client *c = user;
    uint64_t seq;

    (void)s;
    c->frames++;
    if (scn_frame_seq(f, &seq) == 0) {
        if (c->last_seq && seq != c->last_seq + 1)
            c->seq_errors++;
        if (c->last_seq && seq <= c->last_seq)
            c->seq_backwards++;
        c->last_seq = seq;
    }
    if (c->sleep_in_frame)
        usleep(2000);
}

static void on_discontinuity(scn_session *s, const scn_discontinuity *d,
                             void *user)
{
    client *c = user;

    (void)s;
    c->gaps++;
    c->last_gap = *d;
    c->frames_at_gap = c->frames;
}

static void on_message(scn_session *s, const char *type, const char *json,
                       size_t len, void *user)
{
    client *c = user;

    (void)s;
    (void)type;
    (void)json;
    (void)len;
    c->messages++;
}

static void on_error(scn_session *s, int err, const char *detail, void *user)
{
    client *c = user;

    (void)s;
    (void)detail;
    c->errors++;
    c->last_error = err;
}

int client_init(client *c, const char *test, scn_session_options *opts)
{
    scn_loop_options lo;
    char path[512], name[128];

    memset(c, 0, sizeof(*c));
    snprintf(name, sizeof(name), "%s-%d.log", test, (int)getpid());
    c->log = fopen(test_log_path(name, path, sizeof(path)), "a");
    scn_loop_options_init(&lo);
    lo.log = harness_log_to_file;
    lo.log_user = c->log;
    lo.log_level = SCN_LOG_DEBUG;
    if (scn_loop_new(&lo, &c->loop) != 0)
        return -1;
    scn_session_options_init(opts);
    opts->callbacks.on_state = on_state;
    opts->callbacks.on_frame = on_frame;
    opts->callbacks.on_discontinuity = on_discontinuity;
    opts->callbacks.on_message = on_message;
    opts->callbacks.on_error = on_error;
    opts->user = c;
    opts->random_seed = 42;
    return 0;
}

int client_connect(client *c, const scn_session_options *opts)
{
    return scn_session_new(c->loop, opts, &c->s);
}

void client_free(client *c)
{
    scn_session_free(c->s);
    c->s = NULL;
    scn_loop_free(c->loop);
    c->loop = NULL;
    if (c->log)
        fclose(c->log);
    c->log = NULL;
}

typedef struct state_wait {
    client *c;
    scn_state state;
    int from;
    int found;
} state_wait;

static bool state_seen(void *arg)
{
    state_wait *w = arg;

    for (int i = w->from; i < w->c->nevents; i++) {
        if (w->c->events[i].state == w->state) {
            w->found = i;
            return true;
        }
    }
    return false;
}

int client_wait_state(client *c, scn_state state, int from_event,
                      uint32_t timeout_ms)
{
    state_wait w = {c, state, from_event, -1};

    run_until(c->loop, state_seen, &w, timeout_ms);
    return w.found;
}

typedef struct frame_wait {
    client *c;
    uint64_t n;
} frame_wait;

static bool frames_seen(void *arg)
{
    frame_wait *w = arg;
    return w->c->frames >= w->n;
}

bool client_wait_frames(client *c, uint64_t n, uint32_t timeout_ms)
{
    frame_wait w = {c, n};
    return run_until(c->loop, frames_seen, &w, timeout_ms);
}
