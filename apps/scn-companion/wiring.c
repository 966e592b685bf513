/* Callbacks of every component: what each event becomes in the recording,
 * on the fan-out and on stdout. All run on the loop's (main) thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cloud_json.h"
#include "companion.h"
#include "fixed.h"
#include "gap_json.h"
#include "json_obj.h"

int64_t wall_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* An /events or /uav/command object (json_obj's members): no limit but
 * memory, as every peer text in it is bounded by the link that received
 * it. A member that does not fit is named in the object, counted and
 * said (exit 74); one that cannot even open is not recorded. */
static void obj_begin(json_obj *o)
{
    json_obj_begin(o, SIZE_MAX);
}

/* Emits the object o (its stream st, what: its "event" or "command") and
 * frees it. */
static void obj_emit(comp *c, json_obj *o, scn_record_stream st,
                     const char *what)
{
    size_t len;
    uint64_t held;

    if (o->err) {
        json_obj_name_left_out(o);
        c->events_incomplete++;
        if (cli_ratelimit_allow(&c->rl_event, scn_loop_now_ms(c->loop),
                                &held)) {
            fputs("scn-companion: ", stderr);
            json_obj_say_incomplete(o, stderr, what, c->events_incomplete,
                                    held);
        }
    }
    if ((len = json_obj_end(o)) > 0)
        comp_emit(c, st, "events", o->buf, len, 0);
    json_obj_free(o);
}

/* A message the live fan-out refused (rc < 0: out of memory, or too big
 * for any subscriber's queue), which no dashboard will see: counted, said
 * on stderr and in /events at most once an interval. */
static void live_refused(comp *c, int rc)
{
    char detail[128];

    c->live_refused++;
    if (c->live_reporting ||
        !cli_ratelimit_allow(&c->rl_live, scn_loop_now_ms(c->loop), NULL))
        return;
    snprintf(detail, sizeof(detail), "%s (%llu messages not published)",
             scn_strerror(rc), (unsigned long long)c->live_refused);
    fprintf(stderr, "scn-companion: live fan-out: %s\n", detail);
    c->live_reporting = 1;
    comp_event(c, "live_refused", "live", detail);
    c->live_reporting = 0;
}

/* comp_emit() of a message, or of a device frame f with its JSON: the
 * recorder gets the text, the fan-out the frame (never parsed again).
 * written: json is the companion's own writing, strict JSON made by
 * writers that make nothing else (a drone state's scn_uav_state_to_json(),
 * cloud_json.c's pieces): published without a second check. */
static void emit(comp *c, scn_record_stream st, const char *stream,
                 const scn_frame *f, const char *json, size_t len,
                 int64_t publish_ns, int written)
{
    int64_t now = wall_ns();

    if (c->rec) {
        int rc = 0;

        if (!c->chan_ok[st] &&
            (rc = scn_recorder_stream_channel(c->rec, st, &c->chan[st])) == 0)
            c->chan_ok[st] = 1;
        if (c->chan_ok[st])
            rc = scn_recorder_write(
                c->rec, c->chan[st], (uint64_t)now,
                (uint64_t)(publish_ns > 0 ? publish_ns : now), json, len);
        if (rc)
            comp_record_failed(c, rc, 1);
    }
    comp_fleet_publish(c, st, json, len, publish_ns > 0 ? publish_ns : now);
    /* The recorder's topic for Foxglove, the stream name for /live. */
    if (c->live && (c->live_chan[st] || stream)) {
        int rc;

        if (f)
            rc = scn_live_publish_frame(c->live, c->live_chan[st], stream,
                                        (uint64_t)now, f);
        else if (written)
            rc = scn_live_publish_checked(c->live, c->live_chan[st], stream,
                                          (uint64_t)now, json, len);
        else
            rc = scn_live_publish(c->live, c->live_chan[st], stream,
                                  (uint64_t)now, json, len);
        /* >= 0: the subscribers it was queued for. */
        if (rc < 0)
            live_refused(c, rc);
    }
}

void comp_emit(comp *c, scn_record_stream st, const char *stream,
               const char *json, size_t len, int64_t publish_ns)
{
    emit(c, st, stream, NULL, json, len, publish_ns, 0);
}

void comp_record_failed(comp *c, int rc, uint64_t lost)
{
    char detail[192];

    /* The first failure of a write to the file (not of memory for a
     * message) ends the recording: its error is sticky and the open
     * chunk's messages never reach the disk. */
    if (!c->record_err && rc != SCN_ERR_NOMEM) {
        scn_recorder_stats st;

        scn_recorder_get_stats(c->rec, &st);
        lost += st.pending;
    }
    c->records_lost += lost;
    c->record_err = rc;
    if (c->record_reporting ||
        !cli_ratelimit_allow(&c->rl_record, scn_loop_now_ms(c->loop), NULL))
        return;
    snprintf(detail, sizeof(detail), "%s (%llu messages not recorded)",
             scn_strerror(rc), (unsigned long long)c->records_lost);
    fprintf(stderr, "scn-companion: recording %s: %s\n", c->record_path,
            detail);
    /* Said where it can still be seen: a full disk refuses this entry
     * too (counted, not said again). */
    c->record_reporting = 1;
    comp_event(c, "record_failed", "recorder", detail);
    c->record_reporting = 0;
}

void comp_event(comp *c, const char *event, const char *source,
                const char *detail)
{
    json_obj b;

    obj_begin(&b);
    json_obj_str(&b, "event", event);
    json_obj_str(&b, "source", source);
    if (detail)
        json_obj_str(&b, "detail", detail);
    obj_emit(c, &b, SCN_RECORD_EVENTS, event);
}

/* A link changed state: recorded with the key redacted (never the key).
 * current: 0 for a link replaced at a key rotation, whose end is no
 * failure of the companion. */
static void link_event(comp *c, int idx, const char *source, scn_session *s,
                       const scn_state_event *ev, int current)
{
    json_obj b;

    if (ev->state == SCN_STATE_OPEN && current) {
        if (c->opened[idx]) {
            c->reconnects++;
            c->link[idx].reconnects++;
        }
        c->opened[idx] = 1;
    }
    if (current)
        comp_status_link(c, idx, ev);
    obj_begin(&b);
    json_obj_str(&b, "event", "connection");
    json_obj_str(&b, "source", source);
    json_obj_str(&b, "state", scn_state_name(ev->state));
    json_obj_str(&b, "previous", scn_state_name(ev->previous));
    if (ev->reason)
        json_obj_str(&b, "reason", scn_strerror(ev->reason));
    if (ev->last_error)
        json_obj_str(&b, "last_error", scn_strerror(ev->last_error));
    if (s && scn_session_key_redacted(s))
        json_obj_str(&b, "key", scn_session_key_redacted(s));
    json_obj_int(&b, "delay_ms", ev->delay_ms);
    json_obj_int(&b, "attempt", ev->attempt);
    obj_emit(c, &b, SCN_RECORD_EVENTS, "connection");
    if (!current)
        return;
    if (ev->state == SCN_STATE_OPEN)
        comp_key_link_open(c, idx);
    if (ev->state == SCN_STATE_RECONNECTING && !c->closing)
        fprintf(stderr, "scn-companion: %s link: %s; reconnecting in %u ms\n",
                source, scn_strerror(ev->reason), ev->delay_ms);
    if (ev->state == SCN_STATE_FAILED) {
        char why[256];

        fprintf(stderr, "scn-companion: %s link failed: %s\n", source,
                cli_failed_why(ev, why, sizeof(why)));
        if (!c->fatal)
            c->fatal = ev->reason ? ev->reason : SCN_ERR_STATE;
    }
}

/* ---- device ---- */

static void dev_state(scn_session *s, const scn_state_event *ev, void *user)
{
    comp *c = user;

    link_event(c, LINK_DEVICE, "device", s, ev, s == c->dev);
}

/* A frame the cloud will not get: stderr (rate-limited, with the cause the
 * library names) and an /events entry per line, counting the held ones. */
static void submit_failed(comp *c, int rc)
{
    const char *why = scn_cloud_submit_detail(c->cloud);
    char detail[256];
    uint64_t held;

    c->submit_errors++;
    if (rc == SCN_ERR_SPOOL_FULL)
        c->cloud_refused++;
    if (!cli_ratelimit_allow(&c->rl_submit, scn_loop_now_ms(c->loop), &held))
        return;
    snprintf(detail, sizeof(detail), "%s%s(%llu frames)", why, *why ? " " : "",
             (unsigned long long)held + 1);
    fprintf(stderr, "scn-companion: cloud submit: %s%s%s", scn_strerror(rc),
            *why ? ": " : "", why);
    if (held)
        fprintf(stderr, " (and %llu more since the last line)",
                (unsigned long long)held);
    fputc('\n', stderr);
    comp_event(c, "cloud_submit_failed", scn_strerror(rc), detail);
}

/* The frame as JSON, in a buffer the companion keeps and grows to the
 * largest frame seen: no frame is too long to record. NULL (counted and
 * said) only when memory runs out. */
static const char *frame_text(comp *c, const scn_frame *f, size_t *len)
{
    size_t need;
    char *p;

    if (scn_frame_to_json(f, c->frame_json, c->frame_json_cap, len) == 0)
        return c->frame_json;
    need = *len; /* the size the text needs, NUL included */
    p = realloc(c->frame_json, need);
    if (p != NULL) {
        c->frame_json = p;
        c->frame_json_cap = need;
        if (scn_frame_to_json(f, p, need, len) == 0)
            return p;
    }
    c->frames_lost++;
    if (cli_ratelimit_allow(&c->rl_frame, scn_loop_now_ms(c->loop), NULL))
        fprintf(stderr,
                "scn-companion: out of memory: %llu device frames neither "
                "recorded nor sent\n",
                (unsigned long long)c->frames_lost);
    return NULL;
}

/* Something the user asked to keep and the companion could not (a drone
 * state, a fused frame's record), total of them so far: an /events entry
 * each, stderr at most once an interval. */
static void not_kept(comp *c, const char *event, const char *source,
                     const char *what, int rc, uint64_t total)
{
    char detail[192];
    uint64_t held;

    snprintf(detail, sizeof(detail), "%s: %s (%llu in all)", what,
             scn_strerror(rc), (unsigned long long)total);
    comp_event(c, event, source, detail);
    if (!cli_ratelimit_allow(&c->rl_state, scn_loop_now_ms(c->loop), &held))
        return;
    fprintf(stderr, "scn-companion: %s", detail);
    if (held)
        fprintf(stderr, " (and %llu more since the last line)",
                (unsigned long long)held);
    fputc('\n', stderr);
}

/* The cloud record of a fused frame, in a buffer the companion keeps and
 * grows (first to room for the longest state): no state or UID makes it
 * too long to record. 0 (counted, said) only when memory runs out. */
static size_t cloud_rec_text(comp *c, uint64_t seq, const scn_frame *f,
                             const fuse_entry *e, int64_t age)
{
    size_t len =
        cloud_record_text(&c->cloud_rec, SCN_UAV_STATE_JSON_MAX + 512, seq,
                          scn_cloud_stream_id(c->cloud), scn_frame_uid(f),
                          scn_frame_timestamp(f), e ? e->json : NULL, age);

    if (len)
        return len;
    c->cloud_records_lost++;
    not_kept(c, "cloud_record_lost", "cloud",
             "a fused record sent but not recorded", SCN_ERR_NOMEM,
             c->cloud_records_lost);
    return 0;
}

static void dev_frame(scn_session *s, const scn_frame *f, void *user)
{
    comp *c = user;
    const char *json = NULL;
    size_t len = 0;
    int64_t ts = scn_frame_timestamp_ns(f), age = 0;
    const fuse_entry *e;
    uint64_t seq = 0;
    int rc;

    /* A session replaced at a key rotation may still be closing. */
    if (s != c->dev)
        return;
    c->frames++;
    comp_fleet_device_uid(c, scn_frame_uid(f));
    /* The text only for those who take text (the recorder, the fleet);
     * the fan-out and the cloud write theirs from the frame. */
    if ((c->rec || c->fleet) && (json = frame_text(c, f, &len)) == NULL)
        return;
    emit(c, SCN_RECORD_OLFACTION, "olfaction", f, json, len, ts, 1);
    if (!c->cloud)
        return;
    e = fuse_nearest(&c->ring, ts);
    if (e)
        age = (ts - e->t_ns) / 1000000;
    /* The state was written by scn_uav_state_to_json() (on_drone_state):
     * the record takes it without a second check. */
    rc = scn_cloud_submit_frame_checked(c->cloud, f, e ? e->json : NULL,
                                        e ? e->len : 0, age, &seq);
    if (rc) {
        submit_failed(c, rc);
        return;
    }
    if (e)
        c->fused_with_state++;
    follow_remember(&c->follow, seq, ts);
    /* What the cloud got, so that inference seqs and the attached state
     * can be traced in the recording. */
    len = cloud_rec_text(c, seq, f, e, age);
    if (len)
        emit(c, SCN_RECORD_CLOUD_RECORD, NULL, NULL, c->cloud_rec.buf, len, ts,
             1);
}

/* Frames resumed after a reconnect: the hole is recorded and published. */
static void dev_gap(scn_session *s, const scn_discontinuity *d, void *user)
{
    comp *c = user;
    char buf[512], line[160];
    size_t len;

    if (s != c->dev)
        return;
    gap_sentence(line, sizeof(line), d);
    fprintf(stderr, "scn-companion: device: %s\n", line);
    len = gap_event_json(buf, sizeof(buf), "device", d);
    if (len)
        comp_emit(c, SCN_RECORD_EVENTS, "events", buf, len, 0);
}

static void dev_error(scn_session *s, int err, const char *detail, void *user)
{
    (void)s;
    comp_event(user, "device_error", scn_strerror(err), detail);
}

void wire_device(comp *c, scn_session_options *o)
{
    o->callbacks.on_state = dev_state;
    o->callbacks.on_frame = dev_frame;
    o->callbacks.on_discontinuity = dev_gap;
    o->callbacks.on_error = dev_error;
    o->user = c;
}

/* ---- drone ---- */

static void uav_link(scn_uav_channel *ch, const scn_state_event *ev, void *user)
{
    comp *c = user;

    link_event(c, LINK_DRONE, "drone", scn_uav_channel_session(ch), ev,
               ch == c->ch);
}

static void uav_active(scn_uav_channel *ch, int active, void *user)
{
    comp *c = user;

    comp_event(c, active ? "sdk_active" : "sdk_lost", "drone",
               ch == c->ch ? NULL : "link on the new key");
    /* The new key's link takes over in comp_key_poll(), between
     * commands. */
    if (ch != c->ch)
        return;
    c->active = active;
    if (active) {
        comp_fleet_drone_active(c);
        script_kick(c);
    }
}

static void uav_error(scn_uav_channel *ch, int err, const char *detail,
                      void *user)
{
    (void)ch;
    fprintf(stderr, "scn-companion: drone: %s: %s\n", detail,
            scn_strerror(err));
    comp_event(user, "drone_error", scn_strerror(err), detail);
}

static void cmd_record(comp *c, const char *line, const scn_uav_reply *r)
{
    json_obj b;

    obj_begin(&b);
    json_obj_str(&b, "command", line);
    if (r) {
        if (r->answer && r->answer->raw_len)
            json_obj_str(&b, "answer", r->answer->raw);
        else
            json_obj_raw(&b, "answer", "null", 4);
        /* The drone said more than the library keeps: never cut silently. */
        if (r->answer && r->answer->raw_truncated)
            json_obj_raw(&b, "answer_truncated", "true", 4);
        if (r->err)
            json_obj_str(&b, "error", scn_strerror(r->err));
        json_obj_int(&b, "attempts", r->attempts);
        json_obj_int(&b, "elapsed_ms", r->elapsed_ms);
    }
    obj_emit(c, &b, SCN_RECORD_UAV_COMMAND, "command");
}

void comp_command_reply(comp *c, const scn_uav_reply *r)
{
    char raw[CLI_ANSWER_MAX];

    if (c->cmd_outstanding)
        c->cmd_outstanding--;
    cmd_record(c, r->line, r);
    if (r->err == 0) {
        if (strcmp(r->line, "takeoff") == 0)
            c->flying = 1;
        else if (strcmp(r->line, "land") == 0 ||
                 strcmp(r->line, "emergency") == 0)
            c->flying = 0;
    }
    printf("< %s: %s\n", r->line,
           r->answer && r->answer->raw_len
               ? cli_answer(raw, sizeof(raw), r->answer->raw,
                            r->answer->raw_truncated)
               : scn_strerror(r->err));
    fflush(stdout);
}

static void on_reply(scn_uav_channel *ch, const scn_uav_reply *r, void *user)
{
    (void)ch;
    comp_command_reply(user, r);
}

static void on_script_reply(scn_uav_channel *ch, const scn_uav_reply *r,
                            void *user)
{
    comp *c = user;

    on_reply(ch, r, user);
    c->script_busy = 0;
    if (r->err) {
        /* A failed step leaves the drone somewhere unplanned: the rest of
         * the script no longer applies. */
        fprintf(stderr, "scn-companion: script stopped at '%s'\n", r->line);
        c->script_done = 1;
        return;
    }
    scn_timer_start(c->script_timer, 0);
}

int comp_send_command(comp *c, const char *line, scn_uav_reply_fn cb,
                      void *user, char *why, size_t why_cap)
{
    int rc;

    if (why_cap)
        why[0] = '\0';
    c->commands++;
    printf("> %s\n", line);
    fflush(stdout);
    cmd_record(c, line, NULL);
    rc = scn_uav_channel_send_text(c->ch, line, cb, user, why, why_cap);
    if (rc == 0)
        c->cmd_outstanding++;
    if (rc) {
        fprintf(stderr, "scn-companion: %s: %s\n", line,
                why_cap && why[0] ? why : scn_strerror(rc));
        comp_event(c, "command_refused", "drone", line);
    }
    return rc;
}

/* Sends one command; returns 0 or the validation/queue error. */
static int send_line(comp *c, const char *line, scn_uav_reply_fn cb)
{
    char why[256];

    return comp_send_command(c, line, cb, c, why, sizeof(why));
}

static void on_land_reply(scn_uav_channel *ch, const scn_uav_reply *r,
                          void *user)
{
    comp *c = user;

    on_reply(ch, r, user);
    c->land_replied = 1;
}

int comp_land(comp *c)
{
    c->script_done = 1; /* no further script step after this */
    return send_line(c, "land", on_land_reply);
}

void script_kick(comp *c)
{
    char line[SCN_UAV_LINE_MAX + 1], why[256];

    if (c->script_busy || c->script_done || !c->active || !c->ch)
        return;
    if (c->step >= c->sc.count) {
        c->script_done = 1;
        if (c->sc.count)
            comp_event(c, "script_done", "drone", NULL);
        return;
    }
    const script_step *st = &c->sc.steps[c->step++];
    c->script_busy = 1;
    if (st->is_wait) {
        scn_timer_start(c->script_timer, (uint64_t)(st->wait_s * 1000.0));
        return;
    }
    if (scn_uav_cmd_format_redacted(&st->cmd, line, sizeof(line), NULL, why,
                                    sizeof(why)) != 0 ||
        send_line(c, line, on_script_reply) != 0) {
        c->script_busy = 0;
        c->script_done = 1;
    }
}

static void on_script_timer(scn_timer *t, void *user)
{
    comp *c = user;

    (void)t;
    if (c->script_busy && c->step > 0 && c->sc.steps[c->step - 1].is_wait)
        c->script_busy = 0;
    script_kick(c);
}

static void on_drone_state(scn_uav_state_server *srv, const scn_uav_state *st,
                           void *user)
{
    comp *c = user;
    /* Any state the parser accepts: with many escaped unknown keys its
     * JSON is up to twice its state string. */
    char json[SCN_UAV_STATE_JSON_MAX + 1];
    size_t len;
    int64_t now = wall_ns();
    int rc;

    (void)srv;
    c->states++;
    rc = scn_uav_state_to_json(st, json, sizeof(json), &len);
    if (rc != 0) {
        c->states_lost++;
        not_kept(c, "state_lost", "drone",
                 "a drone state neither recorded nor published", rc,
                 c->states_lost);
        return;
    }
    if (fuse_add(&c->ring, now, json, len) != 0) {
        c->states_unfused++;
        not_kept(c, "state_unfused", "drone",
                 "a drone state not fused with frames", SCN_ERR_NOMEM,
                 c->states_unfused);
    }
    emit(c, SCN_RECORD_UAV_STATE, "uav.state", NULL, json, len, now, 1);
}

static void on_stale(scn_uav_state_server *srv, int stale, void *user)
{
    (void)srv;
    comp_event(user, stale ? "state_stale" : "state_flowing", "drone", NULL);
}

void wire_channel(comp *c, scn_uav_channel_options *co)
{
    co->on_state = uav_link;
    co->on_active = uav_active;
    co->on_error = uav_error;
    co->user = c;
}

void wire_state(comp *c, scn_uav_state_server_options *so)
{
    so->on_state = on_drone_state;
    so->on_stale = on_stale;
    so->user = c;
    if (scn_timer_new(c->loop, on_script_timer, c, &c->script_timer) != 0)
        c->script_done = 1;
}

/* ---- cloud ---- */

static void cloud_link(scn_cloud *cl, const scn_state_event *ev, void *user)
{
    comp *c = user;

    link_event(c, LINK_CLOUD, "cloud", scn_cloud_session(cl), ev,
               cl == c->cloud);
}

static void cloud_error(scn_cloud *cl, int err, const char *detail, void *user)
{
    comp *c = user;
    uint64_t held;

    (void)cl;
    comp_event(c, "cloud_error", scn_strerror(err), detail);
    /* The spool's own words (what it refused, a disk it cannot write)
     * also go to stderr; the cloud's text is a peer's and stays in
     * /events. */
    if (err != SCN_ERR_SPOOL_INVALID && err != SCN_ERR_SPOOL_FULL &&
        err != SCN_ERR_SPOOL_CORRUPT && err != SCN_ERR_IO)
        return;
    if (!cli_ratelimit_allow(&c->rl_spool, scn_loop_now_ms(c->loop), &held))
        return;
    fprintf(stderr, "scn-companion: cloud spool: %s: %s", detail ? detail : "",
            scn_strerror(err));
    if (held)
        fprintf(stderr, " (and %llu more since the last line)",
                (unsigned long long)held);
    fputc('\n', stderr);
}

static void print_drops(comp *c)
{
    if (!c->drop_unprinted.count)
        return;
    /* Seqs acknowledged in between may lie inside first..last: /events
     * has each drop's exact range. */
    fprintf(stderr,
            "scn-companion: cloud spool: %s: dropped %llu unacknowledged "
            "records, the oldest first (seq %llu to %llu); %llu in all\n",
            c->drop_unprinted.disk_full ? "the disk is full"
                                        : "over its cap (--spool-cap)",
            (unsigned long long)c->drop_unprinted.count,
            (unsigned long long)c->drop_unprinted.first,
            (unsigned long long)c->drop_unprinted.last,
            (unsigned long long)c->spool_dropped);
    memset(&c->drop_unprinted, 0, sizeof(c->drop_unprinted));
}

/* Every drop is an /events entry (exact seqs and counts); stderr says it
 * at most once per interval, summing what came in between. */
static void cloud_drop(scn_cloud *cl, const scn_cloud_spool_drop *d, void *user)
{
    comp *c = user;
    char buf[256];
    int n;

    (void)cl;
    c->spool_dropped += d->count;
    n = snprintf(buf, sizeof(buf),
                 "{\"event\":\"spool_drop\",\"source\":\"cloud\","
                 "\"reason\":\"%s\",\"first_seq\":%llu,\"last_seq\":%llu,"
                 "\"count\":%llu,\"sent\":%llu,\"total\":%llu}",
                 d->disk_full ? "disk_full" : "spool_cap",
                 (unsigned long long)d->first_seq,
                 (unsigned long long)d->last_seq, (unsigned long long)d->count,
                 (unsigned long long)d->sent,
                 (unsigned long long)c->spool_dropped);
    comp_emit(c, SCN_RECORD_EVENTS, "events", buf, (size_t)n, 0);
    if (!c->drop_unprinted.count)
        c->drop_unprinted.first = d->first_seq;
    c->drop_unprinted.last = d->last_seq;
    c->drop_unprinted.count += d->count;
    c->drop_unprinted.disk_full = d->disk_full;
    if (cli_ratelimit_allow(&c->rl_drop, scn_loop_now_ms(c->loop), NULL))
        print_drops(c);
}

int comp_report_cloud_loss(comp *c)
{
    print_drops(c);
    if (c->rl_submit.held) {
        char detail[96];

        snprintf(detail, sizeof(detail), "(%llu frames)",
                 (unsigned long long)c->rl_submit.held);
        comp_event(c, "cloud_submit_failed", "held back", detail);
    }
    if (!c->spool_dropped && !c->cloud_refused)
        return 0;
    fprintf(stderr,
            "scn-companion: %llu records will never reach the cloud: %llu "
            "dropped from the spool before it acknowledged them, %llu "
            "refused for lack of room on its disk\n",
            (unsigned long long)(c->spool_dropped + c->cloud_refused),
            (unsigned long long)c->spool_dropped,
            (unsigned long long)c->cloud_refused);
    return 1;
}

/* s copied to buf + at; returns the new end. */
static size_t text_put(char *buf, size_t at, const char *s)
{
    size_t n = strlen(s);

    memcpy(buf + at, s, n);
    return at + n;
}

static void on_inference(scn_cloud *cl, const scn_cloud_result *r, void *user)
{
    comp *c = user;
    char line[SCN_UAV_LINE_MAX + 1], label[256];
    /* The printed line: a label of 255 bytes, and room for any double
     * in "%.3f" twice (DBL_MAX has 309 digits). */
    char out[1024];
    const char *top = "(none)";
    double score = 0.0;
    size_t at, n;
    int64_t age = follow_age_ns(&c->follow, r->seq, wall_ns());

    (void)cl;
    c->inferences++;
    /* Grown as needed: 16 labels of escaped control characters are over
     * 5 KiB. */
    at = cloud_inference_text(&c->inference_json, r,
                              age >= 0 ? age / 1000000 : -1);
    if (at) {
        emit(c, SCN_RECORD_INFERENCE, "inference", NULL, c->inference_json.buf,
             at, 0, 1);
    } else {
        c->inferences_unrecorded++;
        not_kept(c, "inference_unrecorded", "cloud",
                 "an inference neither recorded nor published", SCN_ERR_NOMEM,
                 c->inferences_unrecorded);
    }
    if (r->label_count) {
        top = cli_escaped(label, sizeof(label), r->labels[0].label);
        score = r->labels[0].score;
    }
    /* "inference seq %llu: %s %.3f[ bearing %.1f]\n" as printf writes
     * it, without printf: this runs for every frame. */
    n = text_put(out, 0, "inference seq ");
    n += uint_text(out + n, r->seq);
    n = text_put(out, n, ": ");
    n = text_put(out, n, top);
    n = text_put(out, n, " ");
    n += fixed_text(out + n, sizeof(out) - n, score, 3);
    if (r->has_bearing) {
        n = text_put(out, n, " bearing ");
        n += fixed_text(out + n, sizeof(out) - n, r->bearing_deg, 1);
    }
    n = text_put(out, n, "\n");
    fwrite(out, 1, n, stdout);
    fflush(stdout);
    /* Only once the drone is known airborne (takeoff answered ok on the
     * channel): an inference before that is not spent, a later one acts. */
    if (c->ch && scn_uav_channel_airborne(c->ch) == 1 &&
        follow_decide(&c->follow, r, age)) {
        snprintf(line, sizeof(line), "oio %s", c->follow.chosen);
        comp_event(c, "follow", "cloud", line);
        /* Sent once, never retried: a stale repeat could steer the drone
         * toward where the plume was. */
        send_line(c, line, on_reply);
    }
}

void wire_cloud(comp *c, scn_cloud_options *o)
{
    o->on_inference = on_inference;
    o->on_state = cloud_link;
    o->on_error = cloud_error;
    o->on_spool_drop = cloud_drop;
    o->user = c;
}
