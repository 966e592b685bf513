/*
 * The MQTT client (include/scentience/mqtt.h): options, state, the QoS 1
 * spool and its in-flight window, subscriptions made again on every
 * connect, reconnection with the session backoff. The connection itself
 * is a link (mqtt_link.h, libmosquitto behind it), made per attempt.
 */
#include <inttypes.h>
#include <scentience/error.h>
#include <scentience/mqtt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"
#include "io.h"
#include "key.h"
#include "log.h"
#include "mqtt_link.h"
#include "mqtt_policy.h"
#include "mqtt_record.h"
#include "mqtt_topic.h"
#include "mqtt_window.h"
#include "session_internal.h"
#include "spool.h"

#define HOST_MAX 256
/* Open this long and a later loss starts the backoff from the start. */
#define HEALTHY_MS    10000u
#define DROPS_MAX     8
#define CLIENT_ID_MAX 256

typedef struct sub {
    char *filter;
    int qos;
    int mid; /* the current link's SUBSCRIBE awaiting its SUBACK, else 0 */
} sub;

struct scn_mqtt {
    scn_loop *loop;
    scn_loop_child child;
    scn_mqtt_options opts; /* strings below are our copies */
    char *url, *client_id, *username, *password_file;
    char *ca_file, *cert_file, *key_file, *will_topic, *will_payload;
    char host[HOST_MAX];
    int port;
    bool tls;

    scn_state state;
    int failed_reason;
    scn_mqtt_link *link;
    bool open; /* CONNACK accepted on the current link */
    int refusal;
    uint64_t open_since_ms;

    scn_backoff backoff;
    scn_rng rng;
    scn_lws_timer *redial;

    scn_spool *spool;
    scn_spool_cursor cursor;
    scn_mqtt_window win;
    scn_lws_timer *flush;
    bool flush_armed, need_sync;
    scn_spool_drop drops[DROPS_MAX];
    size_t ndrops;

    sub *subs;
    size_t nsubs;

    scn_mqtt_stats stats;
    scn_secret *password;
};

static void report_error(scn_mqtt *m, int err, const char *detail)
{
    scn__log(&m->loop->log, SCN_LOG_WARN, "mqtt", "%s: %s", detail,
             scn_strerror(err));
    if (m->opts.on_error)
        SCN_LOOP_USER_CALL(m->loop,
                           m->opts.on_error(m, err, detail, m->opts.user));
}

static void set_state(scn_mqtt *m, scn_state st, int reason, uint32_t delay)
{
    scn_state_event ev;

    if (m->state == st && st != SCN_STATE_RECONNECTING)
        return;
    memset(&ev, 0, sizeof(ev));
    ev.previous = m->state;
    ev.state = st;
    ev.reason = reason;
    ev.delay_ms = delay;
    ev.attempt = m->backoff.attempt;
    m->state = st;
    if (m->opts.on_state)
        SCN_LOOP_USER_CALL(m->loop, m->opts.on_state(m, &ev, m->opts.user));
}

/* ---- the spool ---- */

static void spool_drop(const scn_spool_drop *d, void *user)
{
    scn_mqtt *m = user;

    if (m->ndrops < DROPS_MAX)
        m->drops[m->ndrops++] = *d;
}

static void spool_report(int err, const char *line, void *user)
{
    report_error(user, err, line);
}

static void apply_ack(scn_mqtt *m, uint64_t upto)
{
    int rc;

    if (!upto)
        return;
    rc = scn__spool_ack(m->spool, upto);
    if (rc)
        report_error(m, rc, "spool ack failed");
    m->need_sync = true;
}

/* Reported after the call that caused them returns to the spool. */
static void deliver_drops(scn_mqtt *m)
{
    size_t n = m->ndrops;
    scn_spool_drop d[DROPS_MAX];

    memcpy(d, m->drops, n * sizeof(d[0]));
    m->ndrops = 0;
    for (size_t i = 0; i < n; i++) {
        scn_mqtt_spool_drop out;

        apply_ack(m, scn__mqtt_window_forget_upto(&m->win, d[i].last_seq));
        scn__log(&m->loop->log, SCN_LOG_WARN, "mqtt",
                 "spool dropped %" PRIu64
                 " unacknowledged messages (seq %" PRIu64 "-%" PRIu64 "): %s",
                 d[i].count, d[i].first_seq, d[i].last_seq,
                 d[i].reason == SCN_SPOOL_DROP_DISK ? "the disk is full"
                                                    : "the spool cap");
        if (d[i].reason == SCN_SPOOL_DROP_DISK)
            m->stats.dropped_disk += d[i].count;
        else
            m->stats.dropped_full += d[i].count;
        if (!m->opts.on_spool_drop)
            continue;
        out.first_seq = d[i].first_seq;
        out.last_seq = d[i].last_seq;
        out.count = d[i].count;
        out.disk_full = d[i].reason == SCN_SPOOL_DROP_DISK;
        SCN_LOOP_USER_CALL(m->loop,
                           m->opts.on_spool_drop(m, &out, m->opts.user));
    }
}

static void on_flush(void *user)
{
    scn_mqtt *m = user;
    int rc;

    m->flush_armed = false;
    if (m->need_sync) {
        m->need_sync = false;
        if ((rc = scn__spool_sync(m->spool)) != 0)
            report_error(m, rc, "spool sync failed");
    }
}

/* A steady stream must not postpone the sync: an armed timer keeps its
 * deadline. */
static void arm_flush(scn_mqtt *m)
{
    if (m->flush_armed)
        return;
    m->flush_armed = true;
    scn__lws_timer_arm(m->flush, m->opts.sync_interval_ms);
}

/* Writes spooled messages from the cursor while the window has room. */
static void pump(scn_mqtt *m)
{
    scn_spool_rec rec;
    scn_mqtt_record r;
    uint64_t upto;
    int rc, mid;

    while (m->open && m->link && scn__mqtt_window_has_room(&m->win)) {
        rc = scn__spool_peek(m->spool, &m->cursor, &rec);
        if (rc == SCN_ERR_NOT_FOUND)
            return;
        if (rc) {
            report_error(m, rc, "spool read failed");
            return;
        }
        if (scn__mqtt_record_decode(rec.data, rec.len, &r) != 0) {
            /* Not ours (a hostile or damaged spool): skipped, and counted
             * as done so that the spool's ack can move past it. */
            report_error(m, SCN_ERR_SPOOL_CORRUPT,
                         "spooled message unreadable: skipped");
            scn__mqtt_window_sent(&m->win, rec.seq, -1);
            scn__mqtt_window_acked(&m->win, -1, &upto);
            apply_ack(m, upto);
            scn__spool_next(&m->cursor, &rec);
            continue;
        }
        rc = scn__mqtt_link_publish(m->link, r.topic, r.payload, r.len, 1,
                                    r.retain, &mid);
        if (rc == SCN_ERR_STATE || rc == SCN_ERR_NOMEM)
            return; /* the link is going: resent on the next one */
        if (rc) {
            /* It can never go (a broker limit): waiting for it would
             * stall every later message. */
            report_error(m, rc, "spooled message refused: skipped");
            scn__mqtt_window_sent(&m->win, rec.seq, -1);
            scn__mqtt_window_acked(&m->win, -1, &upto);
            apply_ack(m, upto);
        } else if (scn__mqtt_window_sent(&m->win, rec.seq, mid)) {
            m->stats.resent_qos1++;
        }
        scn__spool_next(&m->cursor, &rec);
    }
}

/* ---- the link's events ---- */

static void connect_now(scn_mqtt *m);
static void link_lost(scn_mqtt *m, int err);

static void subscribe_now(scn_mqtt *m, sub *s)
{
    s->mid = 0;
    if (scn__mqtt_link_subscribe(m->link, s->filter, s->qos, &s->mid))
        s->mid = 0;
}

static void on_connack(void *user, int code)
{
    scn_mqtt *m = user;

    if (code != 0) {
        m->stats.refused++;
        m->refusal = scn__mqtt_connack_error(code, m->username != NULL);
        return; /* on_lost follows */
    }
    /* Rewound before anything can pump: a publish from the OPEN callback
     * (a birth message) would otherwise write from the old cursor, and
     * the rewind after it would write those records a second time. */
    if (m->spool)
        scn__spool_rewind(m->spool, &m->cursor);
    m->open = true;
    m->open_since_ms = scn_loop_now_ms(m->loop);
    m->stats.connects++;
    for (size_t i = 0; i < m->nsubs; i++)
        subscribe_now(m, &m->subs[i]);
    set_state(m, SCN_STATE_OPEN, 0, 0);
    if (m->spool)
        pump(m);
}

static void on_puback(void *user, int mid)
{
    scn_mqtt *m = user;
    uint64_t upto;

    if (!scn__mqtt_window_acked(&m->win, mid, &upto))
        return;
    m->stats.acked_qos1++;
    apply_ack(m, upto);
    arm_flush(m);
    pump(m);
}

static void on_suback(void *user, int mid, int granted_qos)
{
    scn_mqtt *m = user;

    for (size_t i = 0; i < m->nsubs; i++) {
        sub *s = &m->subs[i];

        if (s->mid != mid)
            continue;
        s->mid = 0;
        if (m->opts.on_subscribe)
            SCN_LOOP_USER_CALL(
                m->loop,
                m->opts.on_subscribe(m, s->filter, granted_qos, m->opts.user));
        return;
    }
}

static void on_message(void *user, const scn_mqtt_message *msg)
{
    scn_mqtt *m = user;

    m->stats.received++;
    if (m->opts.on_message)
        SCN_LOOP_USER_CALL(m->loop, m->opts.on_message(m, msg, m->opts.user));
}

static void on_lost(void *user, int err)
{
    link_lost(user, err);
}

static const scn_mqtt_link_events link_events = {
    on_connack, on_puback, on_suback, on_message, on_lost,
};

static void on_redial(void *user)
{
    connect_now(user);
}

/* The connection ended (or never came): retry later, or fail. */
static void link_lost(scn_mqtt *m, int err)
{
    uint64_t now = scn_loop_now_ms(m->loop);
    uint32_t delay;

    if (m->refusal)
        err = m->refusal;
    m->refusal = 0;
    scn__mqtt_link_close(m->link, false);
    m->link = NULL;
    /* The next link numbers its packets afresh. */
    for (size_t i = 0; i < m->nsubs; i++)
        m->subs[i].mid = 0;
    if (m->spool)
        scn__mqtt_window_reset(&m->win);
    if (m->open) {
        m->stats.disconnects++;
        if (now - m->open_since_ms >= HEALTHY_MS)
            scn__backoff_reset(&m->backoff);
    }
    m->open = false;
    if (scn__mqtt_failure_is_fatal(err, m->opts.fail_fast_auth)) {
        m->failed_reason = err;
        set_state(m, SCN_STATE_FAILED, err, 0);
        return;
    }
    delay = scn__backoff_next(&m->backoff, &m->rng);
    set_state(m, SCN_STATE_RECONNECTING, err, delay);
    if (m->state == SCN_STATE_RECONNECTING)
        scn__lws_timer_arm(m->redial, delay);
}

static void connect_now(scn_mqtt *m)
{
    scn_mqtt_link_params p;
    int rc = 0;

    if (m->state == SCN_STATE_CLOSED || m->state == SCN_STATE_FAILED)
        return;
    set_state(m, SCN_STATE_CONNECTING, 0, 0);
    memset(&p, 0, sizeof(p));
    p.host = m->host;
    p.port = m->port;
    p.tls = m->tls;
    p.insecure = m->opts.insecure != 0;
    p.ca_file = m->ca_file;
    p.cert_file = m->cert_file;
    p.key_file = m->key_file;
    p.client_id = m->client_id;
    p.persistent_session = m->opts.persistent_session != 0;
    p.username = m->username;
    p.keepalive_s = m->opts.keepalive_s;
    p.will_topic = m->will_topic;
    p.will_payload = m->will_payload;
    p.will_qos = m->opts.will_qos;
    p.will_retain = m->opts.will_retain != 0;
    /* Read at each connect (a changed password file is picked up), held
     * in the dump-excluded page only while libmosquitto copies it. */
    if (m->password_file) {
        rc = scn__password_read_file(m->password, m->password_file);
        p.password = scn__secret_str(m->password);
    }
    if (rc == 0)
        rc = scn__mqtt_link_open(m->loop, &p, &link_events, m, &m->link);
    scn__secret_wipe(m->password);
    if (rc)
        link_lost(m, rc);
}

/* ---- the loop's child ---- */

static void child_destroy(scn_loop_child *c)
{
    scn_mqtt_free(SCN_CONTAINER_OF(c, scn_mqtt, child));
}

static bool child_busy(scn_loop_child *c)
{
    const scn_mqtt *m = SCN_CONTAINER_OF(c, scn_mqtt, child);

    return m->state != SCN_STATE_CLOSED && m->state != SCN_STATE_FAILED;
}

/* ---- API ---- */

/* The first version's last field: the smallest struct_size accepted. */
#define MQTT_OPTIONS_V0 SCN_OPTIONS_END(scn_mqtt_options, user)

static void mqtt_defaults(scn_mqtt_options *o)
{
    memset(o, 0, sizeof(*o));
    o->keepalive_s = 10;
    o->will_qos = 1;
    o->will_retain = 1;
    o->spool_cap_bytes = 16u << 20;
    o->max_inflight = 32;
    o->backoff_min_ms = 250;
    o->backoff_max_ms = 10000;
    o->sync_interval_ms = 1000;
}

void scn_mqtt_options_init_sized(scn_mqtt_options *o, size_t size)
{
    scn_mqtt_options d;

    mqtt_defaults(&d);
    scn_options_give(o, size, &d, sizeof(d));
}
static int dup_opt(char **dst, const char *src)
{
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : SCN_ERR_NOMEM;
}

static bool client_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    if (n == 0 || n > CLIENT_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f)
            return false;
    return true;
}

static int check_options(const scn_mqtt_options *o)
{
    if (!client_id_valid(o->client_id) || o->will_qos < 0 || o->will_qos > 1 ||
        (o->will_topic && !scn__mqtt_topic_valid(o->will_topic)) ||
        o->keepalive_s < 5 || o->keepalive_s > 65535 || o->max_inflight < 1 ||
        o->max_inflight > 65535 || o->spool_cap_bytes < 1024 ||
        o->backoff_min_ms < 1 || o->backoff_max_ms < o->backoff_min_ms ||
        (o->password_file && !o->username))
        return SCN_ERR_INVALID_ARG;
    return 0;
}

static int copy_options(scn_mqtt *m, const scn_mqtt_options *o)
{
    int rc = 0;

    m->opts = *o;
    if ((rc = dup_opt(&m->url, o->url)) ||
        (rc = dup_opt(&m->client_id, o->client_id)) ||
        (rc = dup_opt(&m->username, o->username)) ||
        (rc = dup_opt(&m->password_file, o->password_file)) ||
        (rc = dup_opt(&m->ca_file, o->ca_file)) ||
        (rc = dup_opt(&m->cert_file, o->cert_file)) ||
        (rc = dup_opt(&m->key_file, o->key_file)) ||
        (rc = dup_opt(&m->will_topic, o->will_topic)) ||
        (rc =
             dup_opt(&m->will_payload,
                     o->will_topic && !o->will_payload ? "" : o->will_payload)))
        return rc;
    /* The copies only: the caller's strings may go after new(). */
    m->opts.url = m->opts.client_id = m->opts.username = NULL;
    m->opts.password_file = m->opts.ca_file = m->opts.cert_file = NULL;
    m->opts.key_file = m->opts.will_topic = m->opts.will_payload = NULL;
    m->opts.spool_dir = NULL;
    return 0;
}

static int open_spool(scn_mqtt *m, const char *dir)
{
    scn_spool_opts spo;
    int rc;

    memset(&spo, 0, sizeof(spo));
    spo.cap_bytes = m->opts.spool_cap_bytes;
    spo.fsync = SCN_SPOOL_FSYNC_BATCH;
    spo.on_drop = spool_drop;
    spo.on_report = spool_report;
    spo.user = m;
    if ((rc = scn__spool_open_opts(dir, &spo, &m->spool)) != 0)
        return rc;
    scn__spool_rewind(m->spool, &m->cursor);
    return 0;
}

/* The password file is checked now, so that a wrong path or mode fails
 * scn_mqtt_new rather than every connect; read again at each connect. */
static int check_files(scn_mqtt *m)
{
    scn_mqtt_link_params p;
    int rc;

    if (m->password_file) {
        rc = scn__password_read_file(m->password, m->password_file);
        scn__secret_wipe(m->password);
        if (rc)
            return rc == SCN_ERR_KEY_FORMAT ? SCN_ERR_KEY_FILE : rc;
    }
    memset(&p, 0, sizeof(p));
    p.ca_file = m->ca_file;
    p.cert_file = m->cert_file;
    p.key_file = m->key_file;
    return scn__mqtt_link_check_files(&p);
}

int scn_mqtt_new(scn_loop *loop, const scn_mqtt_options *opts, scn_mqtt **out)
{
    scn_mqtt_options own;
    scn_backoff_policy bp;
    scn_mqtt *m;
    int rc;

    if (!loop || !opts || !out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    mqtt_defaults(&own);
    if ((rc = scn_options_take(&own, sizeof(own), MQTT_OPTIONS_V0, opts)))
        return rc;
    opts = &own;
    if (!opts->url)
        return SCN_ERR_URL;
    if ((rc = check_options(opts)) != 0)
        return rc;
    m = calloc(1, sizeof(*m));
    if (!m)
        return SCN_ERR_NOMEM;
    m->loop = loop;
    m->state = SCN_STATE_IDLE;
    if ((rc = copy_options(m, opts)) != 0)
        goto fail;
    if ((rc = scn__mqtt_url_parse(m->url, m->host, sizeof(m->host), &m->port,
                                  &m->tls)) != 0)
        goto fail;
    if ((rc = scn__secret_new(&m->password)) != 0 || (rc = check_files(m)) != 0)
        goto fail;
    if ((rc = scn__mqtt_window_init(&m->win, m->opts.max_inflight)) != 0)
        goto fail;
    if (opts->spool_dir && (rc = open_spool(m, opts->spool_dir)) != 0)
        goto fail;
    if ((rc = scn__lws_timer_new(loop, on_redial, m, &m->redial)) != 0 ||
        (rc = scn__lws_timer_new(loop, on_flush, m, &m->flush)) != 0)
        goto fail;
    memset(&bp, 0, sizeof(bp));
    bp.initial_ms = m->opts.backoff_min_ms;
    bp.max_ms = m->opts.backoff_max_ms;
    bp.healthy_ms = HEALTHY_MS;
    scn__backoff_init(&m->backoff, &bp);
    scn__rng_seed(&m->rng, scn__rng_os_seed());
    m->child.destroy = child_destroy;
    m->child.busy = child_busy;
    scn__loop_adopt(loop, &m->child);
    /* No callback inside scn_mqtt_new: the first attempt (and its
     * CONNECTING report) happens on the loop's next turn. */
    scn__lws_timer_arm(m->redial, 0);
    *out = m;
    return 0;
fail:
    m->state = SCN_STATE_CLOSED;
    scn_mqtt_free(m);
    return rc;
}

static void free_strings(scn_mqtt *m)
{
    char *s[] = {m->url,           m->client_id,  m->username,
                 m->password_file, m->ca_file,    m->cert_file,
                 m->key_file,      m->will_topic, m->will_payload};

    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        free(s[i]);
}

void scn_mqtt_free(scn_mqtt *m)
{
    if (!m)
        return;
    if (m->child.destroy)
        scn__loop_disown(m->loop, &m->child);
    scn__mqtt_link_close(m->link, true);
    m->link = NULL;
    scn__lws_timer_free(m->redial);
    scn__lws_timer_free(m->flush);
    if (m->spool) {
        deliver_drops(m);
        scn__spool_sync(m->spool);
        scn__spool_close(m->spool);
    }
    scn__mqtt_window_free(&m->win);
    for (size_t i = 0; i < m->nsubs; i++)
        free(m->subs[i].filter);
    free(m->subs);
    scn__secret_free(m->password);
    free_strings(m);
    free(m);
}

int scn_mqtt_publish(scn_mqtt *m, const char *topic, const void *payload,
                     size_t len, int qos, int retain)
{
    size_t rec_len;
    void *rec;
    uint64_t seq = 0;
    int rc;

    if (!m || !scn__mqtt_topic_valid(topic) || (qos != 0 && qos != 1) ||
        (len && !payload))
        return SCN_ERR_INVALID_ARG;
    if (m->state == SCN_STATE_FAILED || m->state == SCN_STATE_CLOSED)
        return SCN_ERR_STATE;
    if (qos == 0) {
        int mid;

        rc = SCN_ERR_STATE;
        if (m->open && m->link)
            rc = scn__mqtt_link_publish(m->link, topic, payload, len, 0,
                                        retain != 0, &mid);
        if (rc == 0)
            m->stats.published_qos0++;
        else if (rc == SCN_ERR_STATE || rc == SCN_ERR_NOMEM)
            m->stats.dropped_offline++; /* not connected, or going */
        else
            return rc; /* too big for an MQTT packet */
        return 0;
    }
    if (!m->spool)
        return SCN_ERR_STATE;
    rec_len = scn__mqtt_record_size(strlen(topic), len);
    if (!rec_len)
        return SCN_ERR_MESSAGE_TOO_BIG;
    rec = malloc(rec_len);
    if (!rec)
        return SCN_ERR_NOMEM;
    scn__mqtt_record_encode(rec, rec_len, topic, strlen(topic), payload, len,
                            retain != 0);
    rc = scn__spool_append(m->spool, rec, rec_len, &seq, NULL);
    free(rec);
    deliver_drops(m);
    if (rc && !seq)
        return rc;
    m->stats.submitted_qos1++;
    m->need_sync = true;
    arm_flush(m);
    pump(m);
    return rc;
}

int scn_mqtt_subscribe(scn_mqtt *m, const char *filter, int qos)
{
    sub *s = NULL, *grown;
    char *copy;

    if (!m || !scn__mqtt_filter_valid(filter) || (qos != 0 && qos != 1))
        return SCN_ERR_INVALID_ARG;
    for (size_t i = 0; i < m->nsubs && !s; i++)
        if (!strcmp(m->subs[i].filter, filter))
            s = &m->subs[i];
    if (!s) {
        copy = strdup(filter);
        grown = copy ? realloc(m->subs, (m->nsubs + 1) * sizeof(*grown)) : NULL;
        if (!grown) {
            free(copy);
            return SCN_ERR_NOMEM;
        }
        m->subs = grown;
        s = &m->subs[m->nsubs++];
        s->filter = copy;
        s->mid = 0;
    }
    s->qos = qos;
    if (m->open && m->link)
        subscribe_now(m, s);
    return 0;
}

scn_state scn_mqtt_state(const scn_mqtt *m)
{
    return m ? m->state : SCN_STATE_CLOSED;
}

void scn_mqtt_get_stats(const scn_mqtt *m, scn_mqtt_stats *out)
{
    scn_spool_stats st;

    if (!m || !out)
        return;
    *out = m->stats;
    if (m->spool) {
        scn__spool_get_stats(m->spool, &st);
        out->spooled = st.records;
    }
}
