/*
 * The libmosquitto adapter (mqtt_link.h): the only file that includes
 * mosquitto.h (scripts/check-lws-boundary). libmosquitto is driven from
 * the loop, without its thread: the loop polls the socket
 * (lib/lws/fd_watch.c) and calls mosquitto_loop_read on input,
 * mosquitto_loop_write when it wants to write, and mosquitto_loop_misc
 * once a second for the keepalive. libmosquitto's callbacks run inside
 * those calls; a close asked for meanwhile waits until they return.
 *
 * libmosquitto resolves the host it is given with a blocking getaddrinfo
 * inside mosquitto_connect_async: a DNS server that does not answer would
 * stop the loop for the resolver's whole timeout. A host name is resolved
 * first on a thread of its own (resolve.c) and libmosquitto gets the
 * addresses; with TLS, the context is ours (mqtt_tls.c) so that the
 * certificate is still checked against the name, and the name is the SNI.
 */
#include <errno.h>
#include <limits.h>
#include <mosquitto.h>
#include <scentience/error.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "mqtt_link.h"
#include "mqtt_tls.h"

/* How often mosquitto_loop_misc runs: the keepalive's resolution. */
#define MISC_INTERVAL_MS 1000
/* Packets read per readiness event at most: libmosquitto 2.0 reads one
 * per mosquitto_loop_read, and one busy broker must not starve the loop. */
#define READ_BURST_MAX 64

struct scn_mqtt_link {
    struct mosquitto *mosq;
    scn_loop *loop;
    scn_fd_watch *watch;
    scn_lws_timer *misc;
    scn_resolve_watch *resolve; /* the host name, while being resolved */
    int port, keepalive_s;
    scn_mqtt_link_events ev;
    void *user;
    bool connacked;
    int depth;      /* > 0 while inside libmosquitto */
    int lost_err;   /* 0 until the connection failed */
    bool lost_told; /* on_lost was called */
    bool close_pending, close_disconnect;
};

/* What a libmosquitto result means for the link. */
static int link_error(const scn_mqtt_link *l, int rc, int err_no)
{
    switch (rc) {
    case MOSQ_ERR_NOMEM:
        return SCN_ERR_NOMEM;
    case MOSQ_ERR_CONN_REFUSED:
        return SCN_ERR_MQTT_REFUSED;
    case MOSQ_ERR_TLS:
    case MOSQ_ERR_TLS_HANDSHAKE:
    case MOSQ_ERR_OCSP:
        return SCN_ERR_TLS;
    case MOSQ_ERR_KEEPALIVE:
        /* Before the CONNACK, it is the connect that took too long. */
        return l->connacked ? SCN_ERR_DEAD_PEER : SCN_ERR_TIMEOUT;
    case MOSQ_ERR_CONN_LOST:
        return l->connacked ? SCN_ERR_PEER_CLOSED : SCN_ERR_NETWORK;
    case MOSQ_ERR_PROTOCOL:
    case MOSQ_ERR_MALFORMED_PACKET:
    case MOSQ_ERR_OVERSIZE_PACKET:
        return SCN_ERR_MALFORMED;
    case MOSQ_ERR_ERRNO:
        /* libmosquitto's TLS reads and writes report an OpenSSL failure
         * (a TLS 1.3 broker's alert for a missing client certificate
         * comes after the handshake) as EPROTO. */
        if (err_no == EPROTO)
            return SCN_ERR_TLS;
        if (l->connacked && (err_no == ECONNRESET || err_no == EPIPE))
            return SCN_ERR_PEER_CLOSED;
        return SCN_ERR_NETWORK;
    default:
        return SCN_ERR_NETWORK;
    }
}

static void fail(scn_mqtt_link *l, int rc)
{
    if (!l->lost_err)
        l->lost_err = link_error(l, rc, errno);
}

static void really_close(scn_mqtt_link *l)
{
    if (l->close_disconnect && l->connacked && !l->lost_err &&
        mosquitto_socket(l->mosq) >= 0) {
        /* Written at once when the socket takes it (not in a callback). */
        mosquitto_disconnect(l->mosq);
    }
    /* The watch's dup goes first: the socket closes with mosquitto's. */
    scn__fd_watch_free(l->watch);
    scn__resolve_watch_free(l->resolve); /* its thread ends by itself */
    scn__lws_timer_free(l->misc);
    mosquitto_destroy(l->mosq);
    mosquitto_lib_cleanup();
    free(l);
}

/* After every entry into libmosquitto: a close asked for inside it, the
 * loss it found, or the writes it queued. */
static void settle(scn_mqtt_link *l)
{
    if (l->depth > 0)
        return;
    if (l->close_pending) {
        really_close(l);
        return;
    }
    if (l->lost_err) {
        if (!l->lost_told) {
            l->lost_told = true;
            /* Nothing more from this connection: the owner closes it. */
            scn__fd_watch_free(l->watch);
            l->watch = NULL;
            scn__lws_timer_cancel(l->misc);
            l->depth++;
            l->ev.on_lost(l->user, l->lost_err);
            l->depth--;
            if (l->close_pending)
                really_close(l);
        }
        return;
    }
    if (mosquitto_want_write(l->mosq))
        scn__fd_watch_want_write(l->watch);
}

/* Reads until the socket would block, at most READ_BURST_MAX packets:
 * mosquitto_loop_read handles one packet per call (it reads more only
 * for QoS 1 and 2 messages it holds), so one call per readiness event
 * costs a poll per packet. */
static void read_burst(scn_mqtt_link *l)
{
    int rc;

    for (int i = 0; i < READ_BURST_MAX; i++) {
        errno = 0;
        rc = mosquitto_loop_read(l->mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            fail(l, rc);
            return;
        }
        /* No data, or only part of a packet: the read met EAGAIN. A
         * callback's own EAGAIN only ends the turn early. */
        if (errno == EAGAIN || errno == EWOULDBLOCK || l->lost_err ||
            l->close_pending)
            return;
    }
}

static void on_ready(void *user, bool readable, bool writable, bool hangup)
{
    scn_mqtt_link *l = user;
    int rc;

    if (l->lost_err || l->close_pending)
        return;
    l->depth++;
    /* Until the CONNACK, a TLS handshake may be waiting for the socket
     * to become writable and is driven from the read side: read then
     * too. Reading with nothing to read costs one EAGAIN. */
    if (readable || hangup || !l->connacked) {
        read_burst(l);
        if (hangup)
            fail(l, MOSQ_ERR_CONN_LOST);
    }
    if (writable && !l->lost_err) {
        rc = mosquitto_loop_write(l->mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS)
            fail(l, rc);
    }
    l->depth--;
    settle(l);
}

static void on_misc(void *user)
{
    scn_mqtt_link *l = user;
    int rc;

    if (l->close_pending)
        return;
    if (l->lost_err) {
        settle(l); /* a loss found inside an owner's call */
        return;
    }
    l->depth++;
    rc = mosquitto_loop_misc(l->mosq);
    if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(l->mosq) < 0)
        fail(l, rc != MOSQ_ERR_SUCCESS ? rc : MOSQ_ERR_KEEPALIVE);
    l->depth--;
    if (!l->lost_err)
        scn__lws_timer_arm(l->misc, MISC_INTERVAL_MS);
    settle(l);
}

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    scn_mqtt_link *l = obj;

    (void)m;
    if (rc == 0)
        l->connacked = true;
    l->ev.on_connack(l->user, rc);
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
    scn_mqtt_link *l = obj;

    (void)m;
    if (!l->close_pending)
        l->ev.on_puback(l->user, mid);
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int qos_count,
                         const int *granted)
{
    scn_mqtt_link *l = obj;
    int qos = qos_count >= 1 ? granted[0] : -1;

    (void)m;
    /* One filter per SUBSCRIBE: one code; 0x80 (or anything else out of
     * 0..2) is a refusal. */
    if (!l->close_pending)
        l->ev.on_suback(l->user, mid, qos >= 0 && qos <= 2 ? qos : -1);
}

static void on_message(struct mosquitto *m, void *obj,
                       const struct mosquitto_message *mm)
{
    scn_mqtt_link *l = obj;
    scn_mqtt_message msg;

    (void)m;
    if (l->close_pending || !mm->topic)
        return;
    msg.topic = mm->topic;
    msg.payload = mm->payload ? mm->payload : "";
    msg.len = mm->payloadlen > 0 ? (size_t)mm->payloadlen : 0;
    msg.qos = mm->qos;
    msg.retain = mm->retain ? 1 : 0;
    l->ev.on_message(l->user, &msg);
}

int scn__mqtt_link_check_files(const scn_mqtt_link_params *p)
{
    const char *files[] = {p->ca_file, p->cert_file, p->key_file};

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (files[i] && access(files[i], R_OK) != 0)
            return SCN_ERR_TLS;
    if (!p->cert_file != !p->key_file)
        return SCN_ERR_TLS;
    return 0;
}

/* Our TLS context (mqtt_tls.c), libmosquitto's reference taken. */
static int set_tls(struct mosquitto *m, const scn_mqtt_link_params *p)
{
    SSL_CTX *c;
    int rc = scn__mqtt_tls_ctx_new(p->host, p->ca_file, p->cert_file,
                                   p->key_file, p->insecure, &c);

    if (rc)
        return rc;
    mosquitto_int_option(m, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
    rc = mosquitto_void_option(m, MOSQ_OPT_SSL_CTX, c);
    SSL_CTX_free(c);
    return rc == MOSQ_ERR_SUCCESS ? 0 : SCN_ERR_TLS;
}

static int configure(scn_mqtt_link *l, const scn_mqtt_link_params *p)
{
    struct mosquitto *m = l->mosq;
    int rc;

    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_publish_callback_set(m, on_publish);
    mosquitto_message_callback_set(m, on_message);
    mosquitto_subscribe_callback_set(m, on_subscribe);
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    /* The client bounds what is in flight (max_inflight): libmosquitto
     * must not hold any back in a queue of its own. */
    mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, 65535);
    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    if (p->username && mosquitto_username_pw_set(m, p->username, p->password) !=
                           MOSQ_ERR_SUCCESS)
        return SCN_ERR_NOMEM;
    if (p->will_topic) {
        size_t n = p->will_payload ? strlen(p->will_payload) : 0;

        if (n > INT_MAX ||
            mosquitto_will_set(m, p->will_topic, (int)n, p->will_payload,
                               p->will_qos, p->will_retain) != MOSQ_ERR_SUCCESS)
            return SCN_ERR_INVALID_ARG;
    }
    if (p->tls && (rc = set_tls(m, p)) != 0)
        return rc;
    return 0;
}

/* Connects to the first address that takes a non-blocking connect, as
 * libmosquitto does with the addresses it resolves, and services the
 * socket from the loop. Returns 0 or an SCN_ERR_*. */
static int connect_to(scn_mqtt_link *l, const scn_addr_text *addrs, size_t n)
{
    int rc = MOSQ_ERR_INVAL;

    for (size_t i = 0; i < n; i++) {
        rc =
            mosquitto_connect_async(l->mosq, addrs[i], l->port, l->keepalive_s);
        if (rc == MOSQ_ERR_SUCCESS)
            break;
    }
    if (rc != MOSQ_ERR_SUCCESS)
        return link_error(l, rc, errno);
    rc = scn__fd_watch_new(l->loop, mosquitto_socket(l->mosq), on_ready, l,
                           &l->watch);
    if (rc)
        return rc;
    scn__lws_timer_arm(l->misc, MISC_INTERVAL_MS);
    if (mosquitto_want_write(l->mosq))
        scn__fd_watch_want_write(l->watch);
    return 0;
}

/* The resolver thread is done: connect, or report why not. */
static void on_resolved(void *user, int rc, const scn_addr_text *addrs,
                        size_t n)
{
    scn_mqtt_link *l = user;

    l->resolve = NULL;
    if (rc == 0)
        rc = connect_to(l, addrs, n);
    if (rc && !l->lost_err)
        l->lost_err = rc;
    settle(l);
}

/* An address is used as it is; a name is resolved off the loop first. */
static int start_connect(scn_mqtt_link *l, const char *host)
{
    scn_addr_text addr;

    if (scn__resolve_is_address(host)) {
        if (strlen(host) >= sizeof(addr))
            return SCN_ERR_INVALID_ARG;
        strcpy(addr, host);
        return connect_to(l, (const scn_addr_text *)&addr, 1);
    }
    return scn__resolve_watch_start(l->loop, host, on_resolved, l, &l->resolve);
}

int scn__mqtt_link_open(scn_loop *loop, const scn_mqtt_link_params *p,
                        const scn_mqtt_link_events *ev, void *user,
                        scn_mqtt_link **out)
{
    scn_mqtt_link *l;
    int rc;

    *out = NULL;
    l = calloc(1, sizeof(*l));
    if (!l)
        return SCN_ERR_NOMEM;
    l->loop = loop;
    l->ev = *ev;
    l->user = user;
    l->port = p->port;
    l->keepalive_s = (int)p->keepalive_s;
    mosquitto_lib_init();
    l->mosq = mosquitto_new(p->client_id, !p->persistent_session, l);
    if (!l->mosq) {
        rc = errno == EINVAL ? SCN_ERR_INVALID_ARG : SCN_ERR_NOMEM;
        goto fail;
    }
    if ((rc = configure(l, p)) != 0 ||
        (rc = scn__lws_timer_new(loop, on_misc, l, &l->misc)) != 0 ||
        (rc = start_connect(l, p->host)) != 0)
        goto fail;
    *out = l;
    return 0;
fail:
    scn__fd_watch_free(l->watch);
    scn__resolve_watch_free(l->resolve);
    scn__lws_timer_free(l->misc);
    if (l->mosq)
        mosquitto_destroy(l->mosq);
    mosquitto_lib_cleanup();
    free(l);
    return rc;
}

/* After a call from the owner: writes it queued are asked for; a loss it
 * found is reported from the timer, never inside the owner's call. */
static void after_call(scn_mqtt_link *l, int rc)
{
    if (rc == MOSQ_ERR_ERRNO || rc == MOSQ_ERR_CONN_LOST ||
        rc == MOSQ_ERR_NO_CONN) {
        fail(l, rc);
        scn__lws_timer_arm(l->misc, 0);
    } else if (mosquitto_want_write(l->mosq)) {
        scn__fd_watch_want_write(l->watch);
    }
}

static int call_error(int rc)
{
    switch (rc) {
    case MOSQ_ERR_SUCCESS:
        return 0;
    case MOSQ_ERR_PAYLOAD_SIZE:
    case MOSQ_ERR_OVERSIZE_PACKET:
        return SCN_ERR_MESSAGE_TOO_BIG;
    case MOSQ_ERR_NOMEM:
        return SCN_ERR_NOMEM;
    case MOSQ_ERR_INVAL:
    case MOSQ_ERR_MALFORMED_UTF8:
        return SCN_ERR_INVALID_ARG;
    default:
        return SCN_ERR_STATE;
    }
}

int scn__mqtt_link_publish(scn_mqtt_link *l, const char *topic,
                           const void *payload, size_t len, int qos,
                           bool retain, int *mid)
{
    int rc;

    if (!l->connacked || l->lost_err || l->close_pending)
        return SCN_ERR_STATE;
    if (len > INT_MAX)
        return SCN_ERR_MESSAGE_TOO_BIG;
    rc = mosquitto_publish(l->mosq, mid, topic, (int)len, payload, qos, retain);
    after_call(l, rc);
    return call_error(rc);
}

int scn__mqtt_link_subscribe(scn_mqtt_link *l, const char *filter, int qos,
                             int *mid)
{
    int rc;

    if (!l->connacked || l->lost_err || l->close_pending)
        return SCN_ERR_STATE;
    rc = mosquitto_subscribe(l->mosq, mid, filter, qos);
    after_call(l, rc);
    return call_error(rc);
}

void scn__mqtt_link_close(scn_mqtt_link *l, bool disconnect)
{
    if (!l)
        return;
    l->close_disconnect = disconnect;
    l->close_pending = true;
    if (l->depth == 0)
        really_close(l);
}
