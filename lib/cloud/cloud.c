/*
 * The cloud inference stream: spool, session and the resend window glued
 * together (docs/PROTOCOL.md section 9.4).
 */
#include <scentience/cloud.h>
#include <scentience/error.h>
#include <scentience/log.h>
#include <scentience/timer.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "cloud_msg.h"
#include "io.h"
#include "key.h"
#include "log.h"
#include "seqset.h"
#include "session_internal.h"
#include "spool.h"
#include "url.h"

#define WINDOW_MAX 1024u
/* Spool reports kept until the caller has the handle (scn_cloud_new). */
#define EARLY_MAX 8
/* Drops of one submit, reported once it returns (one per reason). */
#define DROPS_MAX 2

struct scn_cloud {
    scn_loop *loop;
    scn_cloud_options opts;
    char *url;
    scn_session *session;
    scn_session *retired; /* recycled, freed once its callback returns */
    scn_spool *spool;
    scn_timer *flush; /* spool syncs and acks, at most every sync_interval */
    bool flush_armed;
    uint64_t last_flush_ms;
    scn_timer *redial; /* a recycled session's replacement (see on_state) */
    scn_session_options so; /* for that replacement; strings owned */
    scn_secret *api_key;    /* so.api_key points into it, if set */
    scn_spool_cursor cursor;
    bool hello; /* hello seen on the current connection */
    bool need_sync;
    uint64_t pending_ack; /* ack received, not yet given to the spool */
    uint64_t max_sent;    /* highest seq ever written by this process */
    /* Seqs written on this connection above the ack, oldest first: the
     * window counts records, not seq distance, since seqs have gaps. */
    uint64_t ring[WINDOW_MAX];
    size_t ring_head, ring_len;
    /* Records written whose answer (inference or error) has not come: what
     * is acknowledged among them after a reconnect is asked for again. */
    scn_seqset owed;
    scn_cloud_stats stats;
    bool ready; /* scn_cloud_new() returned: reports go to on_error */
    struct {
        int err;
        char line[256];
    } early[EARLY_MAX];
    size_t nearly;
    scn_spool_drop drops[DROPS_MAX];
    size_t ndrops;
    char submit_detail[160];
};

/* The first version's last field: the smallest struct_size accepted. */
#define CLOUD_OPTIONS_V0 SCN_OPTIONS_END(scn_cloud_options, user)

static void cloud_defaults(scn_cloud_options *o)
{
    memset(o, 0, sizeof(*o));
    o->spool_cap_bytes = 64u << 20;
    o->window = 128;
    o->sync_interval_ms = 1000;
}

void scn_cloud_options_init_sized(scn_cloud_options *o, size_t size)
{
    scn_cloud_options d;

    cloud_defaults(&d);
    scn_options_give(o, size, &d, sizeof(d));
}

static void report(scn_cloud *c, int err, const char *detail)
{
    if (c->opts.on_error)
        c->opts.on_error(c, err, detail, c->opts.user);
}

/* What the spool refused or could not do: to the log at once, to
 * on_error once the caller has the handle. */
static void spool_report(int err, const char *line, void *user)
{
    scn_cloud *c = user;

    scn__log(&c->loop->log, SCN_LOG_WARN, "spool", "%s", line);
    if (c->ready) {
        report(c, err, line);
    } else if (c->nearly < EARLY_MAX) {
        c->early[c->nearly].err = err;
        snprintf(c->early[c->nearly].line, sizeof(c->early[0].line), "%s",
                 line);
        c->nearly++;
    }
}

/* Kept until the submit that caused it returns: the application may
 * submit again from its callback. */
static void spool_drop(const scn_spool_drop *d, void *user)
{
    scn_cloud *c = user;

    if (c->ndrops < DROPS_MAX)
        c->drops[c->ndrops++] = *d;
}

static void deliver_drops(scn_cloud *c)
{
    size_t n = c->ndrops;
    scn_spool_drop d[DROPS_MAX];

    memcpy(d, c->drops, n * sizeof(d[0]));
    c->ndrops = 0;
    for (size_t i = 0; i < n; i++) {
        scn_cloud_spool_drop out;

        scn__log(&c->loop->log, SCN_LOG_WARN, "spool",
                 "dropped %" PRIu64 " unacknowledged records (seq %" PRIu64
                 "-%" PRIu64 "): %s",
                 d[i].count, d[i].first_seq, d[i].last_seq,
                 d[i].reason == SCN_SPOOL_DROP_DISK ? "the disk is full"
                                                    : "the spool cap");
        if (!c->opts.on_spool_drop)
            continue;
        out.first_seq = d[i].first_seq;
        out.last_seq = d[i].last_seq;
        out.count = d[i].count;
        /* Records go out in seq order, so the sent ones are the oldest.
         * A run with seq gaps (a crash repair) cannot be split by seq:
         * all of it counts as possibly sent. */
        if (d[i].first_seq > c->max_sent)
            out.sent = 0;
        else if (d[i].last_seq <= c->max_sent ||
                 d[i].last_seq - d[i].first_seq + 1 != d[i].count)
            out.sent = d[i].count;
        else
            out.sent = c->max_sent - d[i].first_seq + 1;
        out.disk_full = d[i].reason == SCN_SPOOL_DROP_DISK;
        c->opts.on_spool_drop(c, &out, c->opts.user);
    }
}

static void ring_clear(scn_cloud *c)
{
    c->ring_head = 0;
    c->ring_len = 0;
}

static void ring_push(scn_cloud *c, uint64_t seq)
{
    c->ring[(c->ring_head + c->ring_len) % WINDOW_MAX] = seq;
    c->ring_len++;
}

static void ring_pop_upto(scn_cloud *c, uint64_t ack)
{
    while (c->ring_len && c->ring[c->ring_head] <= ack) {
        c->ring_head = (c->ring_head + 1) % WINDOW_MAX;
        c->ring_len--;
    }
}

/* Gives the ack to the spool. Batched by the flush timer, not done per ack
 * message, since each spool ack rewrites and fsyncs the meta file. */
static void apply_ack(scn_cloud *c)
{
    int rc;

    if (!c->pending_ack)
        return;
    rc = scn__spool_ack(c->spool, c->pending_ack);
    c->pending_ack = 0;
    if (rc)
        report(c, rc, "spool ack failed");
}

static void on_flush(scn_timer *t, void *user)
{
    scn_cloud *c = user;
    int rc;

    (void)t;
    c->flush_armed = false;
    c->last_flush_ms = scn_loop_now_ms(c->loop);
    c->stats.flushes++;
    for (size_t i = 0; i < c->nearly; i++)
        report(c, c->early[i].err, c->early[i].line);
    c->nearly = 0;
    apply_ack(c);
    if (c->need_sync) {
        c->need_sync = false;
        if ((rc = scn__spool_sync(c->spool)) != 0)
            report(c, rc,
                   rc == SCN_ERR_SPOOL_FULL
                       ? "the spool's ack could not be saved (tried again "
                         "at the next flush; a restart meanwhile only "
                         "resends)"
                       : "spool sync failed");
    }
}

/* At 100 records/s a sync and a meta rewrite per loop turn cost most of
 * the companion's CPU (issue 5): flush at most every sync_interval_ms. An
 * armed timer keeps its deadline, so a steady stream cannot postpone it. */
static void arm_flush(scn_cloud *c)
{
    uint64_t now = scn_loop_now_ms(c->loop);
    uint64_t due = c->last_flush_ms + c->opts.sync_interval_ms;

    if (c->flush_armed)
        return;
    c->flush_armed = true;
    scn_timer_start(c->flush, due > now ? due - now : 0);
}

/* Writes spooled records from the cursor while the window allows. */
static void pump(scn_cloud *c)
{
    scn_spool_rec rec;
    int rc;

    if (!c->hello)
        return;
    while (c->ring_len < c->opts.window) {
        rc = scn__spool_peek(c->spool, &c->cursor, &rec);
        if (rc == SCN_ERR_NOT_FOUND)
            return;
        if (rc) {
            report(c, rc, "spool read failed");
            return;
        }
        if (!c->session)
            return;
        rc = scn_session_send(c->session, SCN_LANE_CONTROL, rec.data, rec.len);
        if (rc == SCN_ERR_QUEUE_FULL)
            return; /* the next ack makes room */
        if (rc == SCN_ERR_MESSAGE_TOO_BIG) {
            /* Spooled under a larger lane (an earlier run's options): it
             * can never go, and waiting for it would stall the stream. */
            c->stats.unsendable++;
            report(c, rc, "spooled record larger than the send lane: skipped");
            scn__spool_next(&c->cursor, &rec);
            continue;
        }
        if (rc) {
            /* Left in the spool: the next connection resends it. */
            report(c, rc, "send failed");
            return;
        }
        if (rec.seq <= c->max_sent) {
            c->stats.resent++;
        } else {
            c->stats.sent++;
            c->max_sent = rec.seq;
        }
        if (scn__seqset_add(&c->owed, rec.seq))
            c->stats.inferences_lost++; /* too many owed: one forgotten */
        ring_push(c, rec.seq);
        scn__spool_next(&c->cursor, &rec);
    }
}

static void handle_ack(scn_cloud *c, uint64_t seq)
{
    if (seq <= c->stats.acked)
        return; /* a re-ack after duplicates */
    c->stats.acked = seq;
    c->pending_ack = seq;
    ring_pop_upto(c, seq);
    /* At once: the spool must not count acknowledged records as lost when
     * it drops for room. The ack is saved by the next flush's sync. */
    apply_ack(c);
    c->need_sync = true;
    arm_flush(c);
}

/* Records the cloud acknowledged (<= acked) whose answer was lost with the
 * connection that carried it: asked for again, ahead of the records that
 * are sent again (docs/PROTOCOL.md 9.4). They stay owed until answered. */
static void ask_again(scn_cloud *c, uint64_t acked)
{
    uint64_t seqs[SCN_CLOUD_RESEND_MAX], after = 0;
    char *msg;
    size_t n, len;
    int rc;

    while ((n = scn__seqset_range(&c->owed, after, acked, seqs,
                                  SCN_CLOUD_RESEND_MAX)) > 0) {
        after = seqs[n - 1];
        if ((rc = scn__cloud_encode_resend(seqs, n, &msg, &len)) == 0) {
            rc = scn_session_send(c->session, SCN_LANE_CONTROL, msg, len);
            free(msg);
        }
        if (rc) {
            report(c, rc, "cannot ask for lost inferences again");
            return; /* asked again at the next hello */
        }
        c->stats.inferences_asked += n;
    }
}

static void handle_hello(scn_cloud *c, const scn_cloud_hello *h)
{
    c->stats.hellos++;
    if (h->has_stream && strcmp(h->stream, scn__spool_stream_id(c->spool)))
        report(c, SCN_ERR_SERVER, "hello names another stream");
    if (h->has_acked && h->acked)
        handle_ack(c, h->acked);
    /* The spool must know the ack before the rewind, or the resend would
     * start below it. */
    apply_ack(c);
    if (c->stats.acked && c->session)
        ask_again(c, c->stats.acked);
    ring_clear(c);
    scn__spool_rewind(c->spool, &c->cursor);
    c->hello = true;
    pump(c);
}

static void deliver_inference(scn_cloud *c, const scn_cloud_inference *in)
{
    scn_cloud_result_label labels[SCN_CLOUD_MAX_LABELS];
    scn_cloud_result r;
    size_t i;

    c->stats.inferences++;
    scn__seqset_remove(&c->owed, in->seq);
    if (!c->opts.on_inference)
        return;
    memset(&r, 0, sizeof(r));
    for (i = 0; i < in->label_count; i++) {
        labels[i].label = in->labels[i].label;
        labels[i].score = in->labels[i].score;
    }
    r.model = in->model;
    r.seq = in->seq;
    r.label_count = in->label_count;
    r.labels = labels;
    r.has_target = in->has_target;
    r.compound = in->compound;
    r.has_bearing = in->has_bearing;
    r.bearing_deg = in->bearing_deg;
    c->opts.on_inference(c, &r, c->opts.user);
}

static void on_text(scn_session *s, const char *data, size_t len, void *user)
{
    scn_cloud *c = user;
    scn_cloud_msg *m;
    char raw[SCN_CLOUD_MESSAGE_MAX + SCN_CLOUD_CODE_MAX + 8];
    char detail[4 * sizeof(raw)];
    int rc;

    if (s == c->retired)
        return;
    /* The union is a few KiB: keep it off the loop thread's stack. */
    m = malloc(sizeof(*m));
    if (!m) {
        report(c, SCN_ERR_NOMEM, "inbound message dropped");
        return;
    }
    rc = scn__cloud_msg_decode(data, len, m);
    if (rc == SCN_ERR_UNKNOWN_TYPE) {
        free(m); /* versioning rule: ignored */
        return;
    }
    if (rc) {
        free(m);
        report(c, rc, "undecodable message from the cloud");
        return;
    }
    switch (m->type) {
    case SCN_CLOUD_MSG_HELLO:
        handle_hello(c, &m->u.hello);
        break;
    case SCN_CLOUD_MSG_ACK:
        handle_ack(c, m->u.ack.seq);
        pump(c);
        break;
    case SCN_CLOUD_MSG_INFERENCE:
        deliver_inference(c, &m->u.inference);
        break;
    case SCN_CLOUD_MSG_ERROR:
        c->stats.errors++;
        /* An error naming a record is its answer: nothing more comes. */
        if (m->u.error.has_seq)
            scn__seqset_remove(&c->owed, m->u.error.seq);
        if (!strcmp(m->u.error.code, "gone"))
            c->stats.inferences_lost++;
        /* The cloud's words, escaped: on_error details are safe to print. */
        snprintf(raw, sizeof(raw), "%s: %s", m->u.error.code,
                 m->u.error.message);
        scn_escape_text(detail, sizeof(detail), raw, strlen(raw));
        report(c, scn__cloud_error_classify(&m->u.error, NULL), detail);
        break;
    default:
        break;
    }
    free(m);
}

static void on_state(scn_session *s, const scn_state_event *ev, void *user)
{
    scn_cloud *c = user;
    scn_session_stats ss;

    /* Not s != c->session: scn_session_new() may report CONNECTING
     * before it has returned the new session. */
    if (s == c->retired)
        return; /* a recycled session's last words */
    /* Whatever was in flight is resent from the spool after the next
     * hello; the window starts empty on every connection. */
    c->hello = false;
    ring_clear(c);
    if (ev->previous == SCN_STATE_OPEN && ev->state == SCN_STATE_RECONNECTING) {
        /* The session keeps its queue across reconnects and would write
         * it first on the next connection, before hello; if the records
         * before it died in the old socket, the cloud would accept the
         * queued ones above a hole and ack past it: lost for good. A
         * session with records still queued is replaced by a fresh one
         * after the same delay (freeing here is deferred by the session). */
        scn_session_get_stats(s, &ss);
        if (ss.queued_msgs) {
            c->stats.recycled++;
            scn_session_free(s);
            c->retired = s;
            c->session = NULL;
            scn_timer_start(c->redial, ev->delay_ms);
        }
    }
    if (c->opts.on_state)
        c->opts.on_state(c, ev, c->opts.user);
}

static void on_redial(scn_timer *t, void *user)
{
    scn_cloud *c = user;
    int rc;

    (void)t;
    if (c->session)
        return;
    c->retired = NULL; /* gone by now: its address may be reused */
    if ((rc = scn_session_new(c->loop, &c->so, &c->session)) != 0) {
        report(c, rc, "cannot recreate the session");
        scn_timer_start(c->redial, c->so.backoff.max_ms);
    }
}

static int dup_str(const char **field)
{
    char *d;

    if (!*field)
        return 0;
    d = strdup(*field);
    if (!d)
        return SCN_ERR_NOMEM;
    *field = d;
    return 0;
}

/* The session options' strings, owned by c->so for a later recreation. An
 * API key given as an option lives in a secret page (no core dump, no swap,
 * wiped at free) like the session's own copy. */
static int own_strings(scn_session_options *so, scn_secret **key)
{
    const char **f[] = {&so->key_file,         &so->subprotocol,
                        &so->device_uid,       &so->ca_file,
                        &so->client_cert_file, &so->client_key_file};
    size_t i;
    int rc = 0;

    *key = NULL;
    if (so->api_key) {
        if ((rc = scn__secret_new(key)) == 0)
            rc = scn__secret_set(*key, so->api_key, strlen(so->api_key));
        so->api_key = rc ? NULL : scn__secret_str(*key);
    }
    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        if (!rc)
            rc = dup_str(f[i]);
        else
            *f[i] = NULL; /* not owned: not freed */
    return rc;
}

static void free_strings(scn_session_options *so, scn_secret *key)
{
    scn__secret_free(key);
    so->api_key = NULL;
    free((char *)so->key_file);
    free((char *)so->subprotocol);
    free((char *)so->device_uid);
    free((char *)so->ca_file);
    free((char *)so->client_cert_file);
    free((char *)so->client_key_file);
}

static int build_url(scn_cloud *c, const char *base)
{
    const char *id = scn__spool_stream_id(c->spool);
    size_t n = strlen(base) + strlen(id) + 16;

    c->url = malloc(n);
    if (!c->url)
        return SCN_ERR_NOMEM;
    snprintf(c->url, n, "%s%cstream=%s", base, strchr(base, '?') ? '&' : '?',
             id);
    return 0;
}

int scn_cloud_new(scn_loop *loop, const scn_cloud_options *opts,
                  scn_cloud **out)
{
    scn_cloud_options own;
    scn_cloud *c;
    scn_session_options so;
    scn_spool_opts spo;
    int rc;

    if (!loop || !opts || !out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    cloud_defaults(&own);
    if ((rc = scn_options_take(&own, sizeof(own), CLOUD_OPTIONS_V0, opts)) ||
        (rc = scn_session_options_copy(&so, own.session)))
        return rc;
    opts = &own;
    if (!opts->spool_dir)
        return SCN_ERR_INVALID_ARG;
    if (opts->window > WINDOW_MAX)
        return SCN_ERR_INVALID_ARG;
    c = calloc(1, sizeof(*c));
    if (!c)
        return SCN_ERR_NOMEM;
    c->loop = loop;
    c->opts = *opts;
    c->opts.spool_dir = NULL; /* not kept: only needed here */
    if (!c->opts.window)
        c->opts.window = 128;
    memset(&spo, 0, sizeof(spo));
    spo.cap_bytes = opts->spool_cap_bytes ? opts->spool_cap_bytes : 64u << 20;
    spo.fsync = SCN_SPOOL_FSYNC_BATCH;
    spo.on_drop = spool_drop;
    spo.on_report = spool_report;
    spo.user = c;
    if ((rc = scn__seqset_init(&c->owed, WINDOW_MAX)) != 0 ||
        (rc = scn__spool_open_opts(opts->spool_dir, &spo, &c->spool)) != 0 ||
        (rc = scn_timer_new(loop, on_flush, c, &c->flush)) != 0 ||
        (rc = scn_timer_new(loop, on_redial, c, &c->redial)) != 0 ||
        (rc = build_url(c, so.url ? so.url : SCN_CLOUD_DEFAULT_URL)) != 0)
        goto fail;
    if (!so.subprotocol)
        so.subprotocol = SCN_CLOUD_PROTOCOL;
    if ((rc = own_strings(&so, &c->api_key)) != 0) {
        free_strings(&so, c->api_key);
        goto fail;
    }
    memset(&so.callbacks, 0, sizeof(so.callbacks));
    so.callbacks.on_state = on_state;
    so.callbacks.on_text = on_text;
    so.raw_text = 1; /* decoded strictly here, by the cloud codec */
    so.stream_rate_hz = 0;
    so.url = c->url;
    if (so.control_queue_msgs && so.control_queue_msgs <= c->opts.window)
        c->opts.window = (uint32_t)so.control_queue_msgs / 2;
    so.user = c;
    c->so = so;
    if ((rc = scn_session_new(loop, &so, &c->session)) != 0) {
        free_strings(&c->so, c->api_key);
        goto fail;
    }
    c->opts.session = NULL; /* the caller's pointers are not kept */
    c->ready = true;
    if (c->nearly > 0)
        arm_flush(c); /* delivers what the spool refused at open */
    *out = c;
    return 0;
fail:
    scn_timer_free(c->redial);
    scn_timer_free(c->flush);
    scn__spool_close(c->spool);
    scn__seqset_free(&c->owed);
    free(c->url);
    free(c);
    return rc;
}

void scn_cloud_free(scn_cloud *c)
{
    if (!c)
        return;
    scn_session_free(c->session);
    scn_timer_free(c->redial);
    scn_timer_free(c->flush);
    free_strings(&c->so, c->api_key);
    apply_ack(c);
    scn__spool_close(c->spool);
    scn__seqset_free(&c->owed);
    free(c->url);
    free(c);
}

/* scn_cloud_submit() of frame_json[0..len), or of the parsed frame;
 * state_json[0..state_len) checked by the encoder unless state_checked
 * (the caller's word, scn_cloud_submit_frame_checked()). */
static int submit(scn_cloud *c, const char *frame_json, size_t len,
                  const scn_frame *frame, const char *state_json,
                  size_t state_len, bool state_checked, int64_t state_age_ms,
                  uint64_t *seq_out)
{
    scn_spool_stats st;
    char *rec = NULL;
    size_t rec_len = 0;
    uint64_t seq = 0, dropped = 0;
    int rc;

    if (!c || (!frame_json && !frame))
        return SCN_ERR_INVALID_ARG;
    c->submit_detail[0] = '\0';
    /* The seq is inside the record, so it is taken before the append; the
     * spool hands it out next, as nothing else appends in between. */
    scn__spool_get_stats(c->spool, &st);
    if (st.next_seq > SCN_CLOUD_SEQ_MAX) {
        snprintf(c->submit_detail, sizeof(c->submit_detail),
                 "spool: the stream's seqs are used up (2^53-1)");
        return SCN_ERR_OUT_OF_RANGE;
    }
    if (frame && state_checked)
        rc = scn__cloud_encode_parsed_checked(
            st.next_seq, frame, state_json, state_len, state_age_ms, &rec,
            &rec_len, c->submit_detail, sizeof(c->submit_detail));
    else if (frame)
        rc = scn__cloud_encode_parsed_why(
            st.next_seq, frame, state_json, state_len, state_age_ms, &rec,
            &rec_len, c->submit_detail, sizeof(c->submit_detail));
    else
        rc = scn__cloud_encode_frame_why(
            st.next_seq, frame_json, len, state_json, state_len, state_age_ms,
            &rec, &rec_len, c->submit_detail, sizeof(c->submit_detail));
    if (rc)
        return rc;
    /* Refused here rather than spooled: a record the session cannot send
     * would only be skipped later, after the cloud has a hole for it. */
    if (c->so.control_queue_bytes && rec_len > c->so.control_queue_bytes) {
        free(rec);
        snprintf(c->submit_detail, sizeof(c->submit_detail),
                 "record: %zu bytes, more than the send lane's %zu", rec_len,
                 c->so.control_queue_bytes);
        return SCN_ERR_MESSAGE_TOO_BIG;
    }
    rc = scn__spool_append(c->spool, rec, rec_len, &seq, &dropped);
    free(rec);
    if (rc)
        snprintf(c->submit_detail, sizeof(c->submit_detail), "spool: %s",
                 rc == SCN_ERR_SPOOL_FULL
                     ? "no room on its disk, even with every older record "
                       "dropped"
                     : scn_strerror(rc));
    deliver_drops(c);
    if (rc && !seq)
        return rc;
    if (seq != st.next_seq) /* the record carries a seq it did not get */
        report(c, SCN_ERR_SPOOL_CORRUPT, "spool assigned an unexpected seq");
    c->need_sync = true;
    arm_flush(c);
    c->stats.submitted++;
    if (seq_out)
        *seq_out = seq;
    pump(c);
    return rc;
}

int scn_cloud_submit(scn_cloud *c, const char *frame_json, size_t len,
                     const char *state_json, int64_t state_age_ms,
                     uint64_t *seq_out)
{
    if (!frame_json)
        return SCN_ERR_INVALID_ARG;
    return submit(c, frame_json, len, NULL, state_json,
                  state_json ? strlen(state_json) : 0, false, state_age_ms,
                  seq_out);
}

int scn_cloud_submit_frame(scn_cloud *c, const scn_frame *frame,
                           const char *state_json, int64_t state_age_ms,
                           uint64_t *seq_out)
{
    if (!frame)
        return SCN_ERR_INVALID_ARG;
    return submit(c, NULL, 0, frame, state_json,
                  state_json ? strlen(state_json) : 0, false, state_age_ms,
                  seq_out);
}

int scn_cloud_submit_frame_checked(scn_cloud *c, const scn_frame *frame,
                                   const char *state_json, size_t state_len,
                                   int64_t state_age_ms, uint64_t *seq_out)
{
    if (!frame || (!state_json && state_len > 0))
        return SCN_ERR_INVALID_ARG;
    return submit(c, NULL, 0, frame, state_json, state_len, true, state_age_ms,
                  seq_out);
}

void scn_cloud_get_stats(const scn_cloud *c, scn_cloud_stats *out)
{
    scn_spool_stats st;

    memset(out, 0, sizeof(*out));
    if (!c)
        return;
    *out = c->stats;
    scn__spool_get_stats(c->spool, &st);
    out->inflight = c->ring_len;
    out->spooled = st.records;
    out->dropped_full = st.dropped_full;
    out->dropped_disk = st.dropped_disk;
    out->refused_full = st.refused_full;
    out->spool_refused = st.refused;
}

const char *scn_cloud_submit_detail(const scn_cloud *c)
{
    return c ? c->submit_detail : "";
}

const char *scn_cloud_stream_id(const scn_cloud *c)
{
    return c ? scn__spool_stream_id(c->spool) : "";
}

scn_session *scn_cloud_session(scn_cloud *c)
{
    return c ? c->session : NULL;
}

/* ---- POST /v1/predict ---- */

#define PREDICT_BODY_MAX (1u << 20)

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

static void fill_prediction(scn_cloud_prediction *out, const scn_cloud_msg *m)
{
    const scn_cloud_inference *in = &m->u.inference;
    size_t i, n = in->label_count;

    if (m->type == SCN_CLOUD_MSG_ERROR) {
        copy_str(out->error_code, sizeof(out->error_code), m->u.error.code);
        copy_str(out->error_message, sizeof(out->error_message),
                 m->u.error.message);
        out->retry_after_ms = m->u.error.retry_after_ms;
        return;
    }
    if (m->type != SCN_CLOUD_MSG_INFERENCE)
        return;
    copy_str(out->model, sizeof(out->model), in->model);
    if (n > sizeof(out->labels) / sizeof(out->labels[0]))
        n = sizeof(out->labels) / sizeof(out->labels[0]);
    for (i = 0; i < n; i++) {
        copy_str(out->labels[i].label, sizeof(out->labels[i].label),
                 in->labels[i].label);
        out->labels[i].score = in->labels[i].score;
    }
    out->label_count = n;
    out->has_target = in->has_target;
    copy_str(out->compound, sizeof(out->compound), in->compound);
    out->has_bearing = in->has_bearing;
    out->bearing_deg = in->bearing_deg;
}

int scn_cloud_predict_url(const char *url, char *out, size_t cap)
{
    static const struct {
        const char *from, *to;
        bool stream; /* a stream URL: its path is replaced */
    } schemes[] = {{"http://", "http://", false},
                   {"https://", "https://", false},
                   {"ws://", "http://", true},
                   {"wss://", "https://", true}};
    char wsurl[SCN_URL_HOST_MAX + SCN_URL_PATH_MAX + 32];
    const char *rest = NULL, *to = NULL, *path;
    bool stream = false;
    scn_url u;
    size_t auth;
    int n;

    if (!out || !cap)
        return SCN_ERR_INVALID_ARG;
    out[0] = '\0';
    if (!url)
        url = SCN_CLOUD_PREDICT_URL;
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t k = strlen(schemes[i].from);

        if (strncmp(url, schemes[i].from, k) == 0) {
            rest = url + k;
            to = schemes[i].to;
            stream = schemes[i].stream;
            break;
        }
    }
    /* The URL parser knows ws and wss: the same authority and path rules
     * as http and https. */
    if (!rest ||
        (size_t)snprintf(wsurl, sizeof(wsurl), "ws://%s", rest) >=
            sizeof(wsurl) ||
        scn__url_parse(wsurl, &u) != 0)
        return SCN_ERR_URL;
    auth = strcspn(rest, "/?");
    path = rest + auth;
    if (stream || !*path || strcmp(path, "/") == 0)
        n = snprintf(out, cap, "%s%.*s/v1/predict", to, (int)auth, rest);
    else if (path[strlen(path) - 1] == '/' && !strchr(path, '?'))
        n = snprintf(out, cap, "%s%sv1/predict", to, rest); /* a base */
    else
        n = snprintf(out, cap, "%s%s", to, rest);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return SCN_ERR_INVALID_ARG;
    }
    return 0;
}

/* The first version's last field: the smallest struct_size accepted. */
#define PREDICT_OPTIONS_V0                                                     \
    SCN_OPTIONS_END(scn_cloud_predict_options, lws_errors_to_stderr)

void scn_cloud_predict_options_init_sized(scn_cloud_predict_options *o,
                                          size_t size)
{
    scn_cloud_predict_options d;

    memset(&d, 0, sizeof(d));
    d.timeout_ms = 10000;
    scn_options_give(o, size, &d, sizeof(d));
}

int scn_cloud_predict(const scn_cloud_predict_options *o,
                      const char *frame_json, size_t len,
                      scn_cloud_prediction *out)
{
    char url[SCN_URL_HOST_MAX + SCN_URL_PATH_MAX + 32];
    char wsurl[sizeof(url) + 8];
    scn_cloud_predict_options own;
    scn_secret *key = NULL;
    scn_cloud_msg *m = NULL;
    scn_http_post p;
    scn_url u;
    int rc;

    if (!o || !frame_json || !out)
        return SCN_ERR_INVALID_ARG;
    memset(&own, 0, sizeof(own));
    if ((rc = scn_options_take(&own, sizeof(own), PREDICT_OPTIONS_V0, o)))
        return rc;
    o = &own;
    memset(out, 0, sizeof(*out));
    memset(&p, 0, sizeof(p));
    if ((rc = scn_cloud_predict_url(o->url, url, sizeof(url))) != 0)
        return rc == SCN_ERR_INVALID_ARG ? SCN_ERR_URL : rc;
    /* Parsed as ws/wss: the same authority and path rules. */
    snprintf(wsurl, sizeof(wsurl), "%s%s",
             strncmp(url, "https://", 8) == 0 ? "wss://" : "ws://",
             strchr(url, ':') + 3);
    if ((rc = scn__url_parse(wsurl, &u)) != 0)
        return rc;
    if ((rc = scn__cloud_encode_predict(frame_json, len, (char **)&p.body,
                                        &p.body_len)) != 0)
        return rc;
    if (!o->no_key) {
        if ((rc = scn__secret_new(&key)) != 0 ||
            (rc = scn__key_resolve(
                 key, o->api_key, getenv("SCENTIENCE_API_KEY"), o->key_file,
                 getenv("XDG_CONFIG_HOME"), getenv("HOME"), NULL)) != 0)
            goto out;
        p.bearer = scn__secret_str(key);
    }
    p.host = u.host;
    p.port = u.port;
    p.path = u.path;
    p.tls = u.tls;
    p.insecure = o->insecure;
    p.ca_file = o->ca_file;
    p.reply_max = PREDICT_BODY_MAX;
    p.timeout_ms = o->timeout_ms ? o->timeout_ms : 10000;
    p.lws_errors_to_stderr = o->lws_errors_to_stderr;
    rc = scn__http_post_run(&p);
    out->http_status = p.status;
    if (rc)
        goto out;
    if (!(m = malloc(sizeof(*m)))) {
        rc = SCN_ERR_NOMEM;
        goto out;
    }
    if (p.status == 200) {
        if (p.reply &&
            scn__cloud_predict_decode(p.reply, p.reply_len, m) == 0 &&
            m->type == SCN_CLOUD_MSG_INFERENCE)
            fill_prediction(out, m);
        else
            rc = SCN_ERR_MALFORMED; /* a 200 that is not an inference */
        goto out;
    }
    /* A body that is not an error object still yields the status's
     * error (9.6). */
    if (p.reply && scn__cloud_predict_decode(p.reply, p.reply_len, m) == 0 &&
        m->type == SCN_CLOUD_MSG_ERROR)
        fill_prediction(out, m);
    rc = scn__status_error(p.status, out->error_code);
out:
    free(m);
    free(p.reply);
    free((char *)p.body);
    scn__secret_free(key);
    return rc;
}
