/*
 * The WebSocket server against real clients on loopback: libscentience
 * sessions on the same loop, and an independent Python websockets client
 * (server_peer.py) as separate processes: messages intact in both
 * directions, the allow list, refusals, oversize messages, a slow peer
 * beside a fast one, closing, sending from other threads, and freeing the
 * server (inside a callback too). Every wait is bounded; every process is
 * killed and reaped in the teardown.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "harness.h"
#include "py_peer.h"

#define MAX_PEERS 16
#define MAX_CONNS 16
typedef py_peer peer;

typedef struct fixture {
    scn_loop *loop;
    scn_server *srv;
    FILE *log;
    peer peers[MAX_PEERS];
    int npeers;

    /* What the server's callbacks saw. */
    scn_server_conn *conns[MAX_CONNS];
    bool closed[MAX_CONNS];
    int close_code[MAX_CONNS];
    int nconns;
    int closes;
    char paths[MAX_CONNS][64];
    uint64_t messages, text_messages;
    unsigned long crc;
    char last_text[256];
    int errors[MAX_CONNS];
    scn_server_conn *error_conn[MAX_CONNS];
    int nerrors;
    int io_errors; /* server-level SCN_ERR_IO, all of them */

    /* How they behave. */
    bool echo;
    bool refuse;
    bool free_on_message;
    const char *greeting; /* sent from on_connect */

    struct sess *sessions; /* test_sessions_get_frames' clients */
} fixture;

/* ------------------------------------------------------------------ */
/* Peers: server_peer.py as a child process                            */
/* ------------------------------------------------------------------ */

static peer *peer_start(fixture *f, const char *mode, int port, const char *a1,
                        const char *a2, const char *a3)
{
    char portbuf[16], name[96];
    const char *args[] = {mode, portbuf, a1, a2, a3, NULL};
    peer *p;

    assert_true(f->npeers < MAX_PEERS);
    p = &f->peers[f->npeers++];
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    snprintf(name, sizeof(name), "server-peer-%d.log", (int)getpid());
    return py_peer_start(p, "server_peer.py", name, args) == 0 ? p : NULL;
}

static void pump_all(fixture *f, uint32_t ms)
{
    py_peers_pump(f->loop, f->peers, f->npeers, ms);
}

static bool peer_wait(fixture *f, peer *p, const char *needle,
                      uint32_t timeout_ms)
{
    return py_peer_wait(f->loop, f->peers, f->npeers, p, needle, timeout_ms);
}

static bool wait_exit(fixture *f, peer *p, uint32_t timeout_ms)
{
    return py_peer_wait_exit(f->loop, f->peers, f->npeers, p, timeout_ms);
}

/* The text after needle in the peer's output, up to the line's end. */
static const char *peer_value(peer *p, const char *needle, char *buf,
                              size_t cap)
{
    const char *s = strstr(p->out, needle);
    size_t n;

    buf[0] = '\0';
    if (!s)
        return buf;
    s += strlen(needle);
    n = strcspn(s, "\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

typedef bool (*fixture_cond)(fixture *f);

static bool one_closed(fixture *f)
{
    return f->closes >= 1;
}

static bool two_open(fixture *f)
{
    scn_server_stats st;

    scn_server_get_stats(f->srv, &st);
    return st.connections_open >= 2;
}

static bool run_until_cond(fixture *f, fixture_cond cond, uint32_t timeout_ms)
{
    uint64_t end = deadline_ms(f->loop, timeout_ms);

    while (!cond(f)) {
        if (scn_loop_now_ms(f->loop) >= end)
            return false;
        pump_all(f, 10);
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Server callbacks                                                    */
/* ------------------------------------------------------------------ */

static int conn_index(scn_server_conn *conn)
{
    return (int)(intptr_t)scn_server_conn_get_user(conn) - 1;
}

static int on_connect(scn_server *srv, scn_server_conn *conn,
                      const char *peer_addr, const char *path, void *user)
{
    fixture *f = user;

    assert_string_equal(peer_addr, scn_server_conn_peer(conn));
    assert_ptr_equal(scn_server_conn_server(conn), srv);
    if (f->refuse)
        return 1;
    assert_true(f->nconns < MAX_CONNS);
    snprintf(f->paths[f->nconns], sizeof(f->paths[0]), "%s", path);
    f->conns[f->nconns++] = conn;
    scn_server_conn_set_user(conn, (void *)(intptr_t)f->nconns);
    if (f->greeting)
        assert_int_equal(
            scn_server_conn_send(conn, f->greeting, strlen(f->greeting), 0), 0);
    return 0;
}

static void on_message(scn_server *srv, scn_server_conn *conn, const void *data,
                       size_t len, int is_binary, void *user)
{
    fixture *f = user;

    f->messages++;
    f->crc = crc32(f->crc, data, (uInt)len);
    if (!is_binary) {
        size_t n =
            len < sizeof(f->last_text) - 1 ? len : sizeof(f->last_text) - 1;
        f->text_messages++;
        memcpy(f->last_text, data, n);
        f->last_text[n] = '\0';
    }
    if (f->echo)
        assert_int_equal(scn_server_conn_send(conn, data, len, is_binary), 0);
    if (f->free_on_message) {
        scn_server_free(srv);
        /* Deferred: the server is still whole until this returns. */
        assert_int_equal(scn_server_port(srv) > 0, 1);
        f->srv = NULL;
    }
}

static void on_close(scn_server *srv, scn_server_conn *conn, int code,
                     void *user)
{
    fixture *f = user;
    int i = conn_index(conn);

    (void)srv;
    assert_true(i >= 0 && i < f->nconns);
    assert_false(f->closed[i]);
    f->closed[i] = true;
    f->close_code[i] = code;
    f->closes++;
}

static void on_error(scn_server *srv, scn_server_conn *conn, int err,
                     const char *detail, void *user)
{
    fixture *f = user;

    (void)srv;
    (void)detail;
    if (err == SCN_ERR_IO && !conn)
        f->io_errors++;
    if (f->nerrors < MAX_CONNS) {
        f->error_conn[f->nerrors] = conn;
        f->errors[f->nerrors++] = err;
    }
}

static void server_opts(fixture *f, scn_server_options *o)
{
    scn_server_options_init(o);
    o->callbacks.on_connect = on_connect;
    o->callbacks.on_message = on_message;
    o->callbacks.on_close = on_close;
    o->callbacks.on_error = on_error;
    o->user = f;
}

static int start_server(fixture *f, scn_server_options *o)
{
    int rc = scn_server_new(f->loop, o, &f->srv);

    if (rc == 0)
        assert_true(scn_server_port(f->srv) > 0);
    return rc;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    scn_loop_options lo;
    char path[512], name[96];

    *state = f;
    if (!f)
        return -1;
    snprintf(name, sizeof(name), "server-%d.log", (int)getpid());
    f->log = fopen(test_log_path(name, path, sizeof(path)), "a");
    scn_loop_options_init(&lo);
    lo.log = harness_log_to_file;
    lo.log_user = f->log;
    lo.log_level = SCN_LOG_DEBUG;
    return scn_loop_new(&lo, &f->loop) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;

    for (int i = 0; i < f->npeers; i++)
        py_peer_stop(&f->peers[i]);
    scn_server_free(f->srv);
    scn_loop_free(f->loop);
    if (f->log)
        fclose(f->log);
    free(f);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

static void test_options_rejected(void **state)
{
    fixture *f = *state;
    const char *bad_allow[] = {"127.0.0.1", "10.0.0.0/40"};
    scn_server_options o;
    scn_server *other = NULL;

    server_opts(f, &o);
    assert_int_equal(scn_server_new(NULL, &o, &other), SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_server_new(f->loop, NULL, &other),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_server_new(f->loop, &o, NULL), SCN_ERR_INVALID_ARG);
    o.bind_address = "localhost";
    assert_int_equal(scn_server_new(f->loop, &o, &other), SCN_ERR_INVALID_ARG);
    o.bind_address = NULL;
    o.port = 70000;
    assert_int_equal(scn_server_new(f->loop, &o, &other), SCN_ERR_INVALID_ARG);
    o.port = 0;
    o.path = "live";
    assert_int_equal(scn_server_new(f->loop, &o, &other), SCN_ERR_INVALID_ARG);
    o.path = "/live?x=1";
    assert_int_equal(scn_server_new(f->loop, &o, &other), SCN_ERR_INVALID_ARG);
    o.path = NULL;
    o.subprotocol = "a,b";
    assert_int_equal(scn_server_new(f->loop, &o, &other), SCN_ERR_INVALID_ARG);
    o.subprotocol = "";
    assert_int_equal(scn_server_new(f->loop, &o, &other), SCN_ERR_INVALID_ARG);
    o.subprotocol = NULL;
    o.allow = bad_allow;
    o.allow_count = 2;
    assert_int_equal(scn_server_new(f->loop, &o, &other), SCN_ERR_INVALID_ARG);
    o.allow = NULL;
    assert_int_equal(scn_server_new(f->loop, &o, &other), SCN_ERR_INVALID_ARG);
    o.allow_count = 0;
    assert_null(other);

    /* The port of a running server is taken: bind fails, cleanly. */
    assert_int_equal(start_server(f, &o), 0);
    o.port = scn_server_port(f->srv);
    assert_int_equal(scn_server_new(f->loop, &o, &other),
                     SCN_ERR_ADDRESS_IN_USE);
    assert_null(other);
    /* IPv6 loopback and an explicit IPv4 bind work side by side. */
    o.port = 0;
    o.bind_address = "::1";
    assert_int_equal(scn_server_new(f->loop, &o, &other), 0);
    assert_true(scn_server_port(other) > 0);
    scn_server_free(other);
    scn_server_free(NULL);
}

/* ------------------------------------------------------------------ */
/* libscentience sessions as clients                                   */
/* ------------------------------------------------------------------ */

struct sess {
    scn_session *s;
    uint64_t frames, last_seq;
    int seq_errors;
    scn_state state;
};
typedef struct sess sess;

static void sess_on_state(scn_session *s, const scn_state_event *ev, void *user)
{
    sess *c = user;

    (void)s;
    c->state = ev->state;
}

static void sess_on_frame(scn_session *s, const scn_frame *frame, void *user)
{
    sess *c = user;
    uint64_t seq = 0;

    (void)s;
    c->frames++;
    if (scn_frame_seq(frame, &seq) == 0) {
        if (seq != c->last_seq + 1)
            c->seq_errors++;
        c->last_seq = seq;
    }
}

static bool sessions_have_frames(fixture *f)
{
    return f->sessions[0].frames >= 6 && f->sessions[1].frames >= 6 &&
           f->text_messages >= 2;
}

static bool sessions_greeted(fixture *f)
{
    return f->sessions[0].frames >= 1 && f->sessions[1].frames >= 1;
}

static bool first_session_reconnecting(fixture *f)
{
    return f->sessions[0].state == SCN_STATE_RECONNECTING;
}

static void test_sessions_get_frames(void **state)
{
    fixture *f = *state;
    scn_server_options o;
    scn_session_options so;
    scn_server_stats st;
    sess c[2];
    char url[96], frame[160];

    memset(c, 0, sizeof(c));
    f->sessions = c;
    server_opts(f, &o);
    o.path = "/live";
    o.subprotocol = SCN_SUBPROTOCOL;
    f->greeting = "{\"UID\":\"SCN001\",\"TIMESTAMP\":\"2025-08-29T21:00:00Z\","
                  "\"SEQ\":1,\"NH3\":270}";
    assert_int_equal(start_server(f, &o), 0);

    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/live",
             scn_server_port(f->srv));
    for (int i = 0; i < 2; i++) {
        scn_session_options_init(&so);
        so.url = url;
        so.no_key = 1;
        so.random_seed = 7;
        so.callbacks.on_state = sess_on_state;
        so.callbacks.on_frame = sess_on_frame;
        so.user = &c[i];
        assert_int_equal(scn_session_new(f->loop, &so, &c[i].s), 0);
    }
    assert_true(run_until_cond(f, sessions_greeted, 10000));
    assert_string_equal(scn_session_subprotocol(c[0].s), SCN_SUBPROTOCOL);
    assert_string_equal(f->paths[0], "/live");

    /* Frames 2..6 to everyone; each session sends one request back. */
    for (int seq = 2; seq <= 6; seq++) {
        int n = snprintf(frame, sizeof(frame),
                         "{\"UID\":\"SCN001\",\"TIMESTAMP\":"
                         "\"2025-08-29T21:00:0%dZ\",\"SEQ\":%d,\"CO\":%d}",
                         seq, seq, 1000 + seq);
        assert_int_equal(scn_server_broadcast(f->srv, frame, (size_t)n, 0), 2);
    }
    assert_int_equal(scn_session_request_sample(c[0].s), 0);
    assert_int_equal(scn_session_request_sample(c[1].s), 0);
    assert_true(run_until_cond(f, sessions_have_frames, 10000));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(c[i].frames, 6);
        assert_int_equal(c[i].seq_errors, 0);
        assert_int_equal(c[i].state, SCN_STATE_OPEN);
    }
    assert_non_null(strstr(f->last_text, "\"sample\""));

    scn_server_get_stats(f->srv, &st);
    assert_int_equal(st.connections_accepted, 2);
    assert_int_equal(st.connections_open, 2);
    assert_int_equal(st.messages_out, 12);
    assert_int_equal(st.messages_in, 2);
    assert_int_equal(st.dropped_slow, 0);

    /* Freeing the server closes both (on_close 1001, here and now); the
     * sessions see the link drop and start reconnecting. */
    scn_server_free(f->srv);
    f->srv = NULL;
    assert_int_equal(f->closes, 2);
    assert_int_equal(f->close_code[0], 1001);
    assert_int_equal(f->close_code[1], 1001);
    assert_true(run_until_cond(f, first_session_reconnecting, 20000));
    scn_session_free(c[0].s);
    scn_session_free(c[1].s);
}

/* ------------------------------------------------------------------ */
/* Python clients                                                      */
/* ------------------------------------------------------------------ */

static void test_binary_text_fragmented_echo(void **state)
{
    fixture *f = *state;
    scn_server_options o;
    scn_server_stats st;
    char buf[64], expect[64];
    peer *p;

    server_opts(f, &o);
    o.max_message_bytes = 256 * 1024;
    f->echo = true;
    assert_int_equal(start_server(f, &o), 0);
    p = peer_start(f, "echo", scn_server_port(f->srv), "/anything", "42", NULL);
    assert_non_null(p);
    assert_true(peer_wait(f, p, "ECHOED", 30000));
    /* What the server received is what Python sent, byte for byte, in
     * order: 8 binary, a fragmented binary, a fragmented text, a text. */
    snprintf(expect, sizeof(expect), "11 %lu", f->crc);
    assert_string_equal(peer_value(p, "SENT ", buf, sizeof(buf)), expect);
    assert_string_equal(peer_value(p, "ECHOED ", buf, sizeof(buf)), "11");
    assert_null(strstr(p->out, "MISMATCH"));
    assert_int_equal(f->messages, 11);
    assert_int_equal(f->text_messages, 2);
    assert_string_equal(f->last_text, "plain text");
    assert_true(wait_exit(f, p, 20000));
    assert_true(run_until_cond(f, one_closed, 20000));
    assert_int_equal(f->close_code[0], 1000);
    scn_server_get_stats(f->srv, &st);
    assert_int_equal(st.messages_in, 11);
    assert_int_equal(st.messages_out, 11);
    assert_int_equal(st.oversize, 0);
}

static void test_allow_list(void **state)
{
    fixture *f = *state;
    const char *allow[] = {"127.0.0.1"};
    scn_server_options o;
    scn_server_stats st;
    peer *other, *ok;

    server_opts(f, &o);
    o.allow = allow;
    o.allow_count = 1;
    f->echo = true;
    assert_int_equal(start_server(f, &o), 0);
    other =
        peer_start(f, "from", scn_server_port(f->srv), "127.0.0.2", NULL, NULL);
    assert_non_null(other);
    assert_true(peer_wait(f, other, "REFUSED", 20000));
    assert_null(strstr(other->out, "OPEN"));
    ok =
        peer_start(f, "from", scn_server_port(f->srv), "127.0.0.1", NULL, NULL);
    assert_non_null(ok);
    assert_true(peer_wait(f, ok, "ECHO hello from 127.0.0.1", 20000));
    scn_server_get_stats(f->srv, &st);
    assert_int_equal(st.refused_address, 1);
    assert_int_equal(st.connections_accepted, 1);
    assert_int_equal(st.connections_refused, 0);
    /* The refused peer never reached on_connect. */
    assert_int_equal(f->nconns, 1);
    assert_string_equal(scn_server_conn_peer(f->conns[0]), "127.0.0.1");

    /* A prefix lets the whole range in. */
    scn_server_free(f->srv);
    f->srv = NULL;
    allow[0] = "127.0.0.0/30";
    assert_int_equal(start_server(f, &o), 0);
    other =
        peer_start(f, "from", scn_server_port(f->srv), "127.0.0.2", NULL, NULL);
    assert_non_null(other);
    assert_true(peer_wait(f, other, "ECHO hello from 127.0.0.2", 20000));
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    scn_server_options o;
    scn_server_stats st;
    peer *p;
    int n;

    server_opts(f, &o);
    o.path = "/live";
    o.subprotocol = "dash.v1";
    assert_int_equal(start_server(f, &o), 0);
    n = scn_server_port(f->srv);

    p = peer_start(f, "status", n, "/other", "dash.v1", NULL);
    assert_true(peer_wait(f, p, "STATUS 404", 20000));
    p = peer_start(f, "status", n, "/live", "other.v1", NULL);
    assert_true(peer_wait(f, p, "STATUS 400", 20000));
    p = peer_start(f, "status", n, "/live", "-", NULL);
    assert_true(peer_wait(f, p, "STATUS 400", 20000));
    /* Offered among others: selected. The query is not part of the path. */
    p = peer_start(f, "status", n, "/live?uid=SCN001", "x.v2,dash.v1", NULL);
    assert_true(peer_wait(f, p, "OPEN dash.v1", 20000));
    p = peer_start(f, "http", n, NULL, NULL, NULL);
    assert_true(peer_wait(f, p, "STATUS 404", 20000));
    f->refuse = true;
    p = peer_start(f, "status", n, "/live", "dash.v1", NULL);
    assert_true(peer_wait(f, p, "STATUS 403", 20000));
    scn_server_get_stats(f->srv, &st);
    assert_int_equal(st.connections_refused, 5);
    assert_int_equal(st.connections_accepted, 1);
    assert_int_equal(f->nconns, 1);

    /* Without a subprotocol: none is selected, and offering one is
     * refused rather than hung up on. */
    scn_server_free(f->srv);
    f->srv = NULL;
    f->refuse = false;
    o.subprotocol = NULL;
    o.path = NULL;
    assert_int_equal(start_server(f, &o), 0);
    n = scn_server_port(f->srv);
    p = peer_start(f, "status", n, "/any/path", "-", NULL);
    assert_true(peer_wait(f, p, "OPEN -", 20000));
    p = peer_start(f, "status", n, "/", "dash.v1", NULL);
    assert_true(peer_wait(f, p, "STATUS 400", 20000));
}

static void test_oversize_closes_1009(void **state)
{
    fixture *f = *state;
    scn_server_options o;
    scn_server_stats st;
    int n, big = 0, too_big = 0;
    peer *p;

    server_opts(f, &o);
    o.max_message_bytes = 64 * 1024;
    f->echo = true;
    assert_int_equal(start_server(f, &o), 0);
    n = scn_server_port(f->srv);

    /* Exactly the limit passes (and comes back). */
    p = peer_start(f, "oversize", n, "65536", "1", NULL);
    assert_true(peer_wait(f, p, "NO CLOSE", 20000));
    /* One byte more, in one frame or in many small ones: 1009. */
    p = peer_start(f, "oversize", n, "65537", "1", NULL);
    assert_true(peer_wait(f, p, "CLOSE 1009", 20000));
    p = peer_start(f, "oversize", n, "3000000", "300", NULL);
    assert_true(peer_wait(f, p, "CLOSE 1009", 20000));
    /* The server is still up for others. */
    p = peer_start(f, "from", n, "127.0.0.1", NULL, NULL);
    assert_true(peer_wait(f, p, "ECHO hello from 127.0.0.1", 20000));

    scn_server_get_stats(f->srv, &st);
    assert_int_equal(st.oversize, 2);
    for (int i = 0; i < f->nerrors; i++) {
        if (f->errors[i] == SCN_ERR_MESSAGE_TOO_BIG) {
            too_big++;
            assert_non_null(f->error_conn[i]);
        }
    }
    assert_int_equal(too_big, 2);
    for (int i = 0; i < f->nconns; i++)
        if (f->closed[i] && f->close_code[i] == 1009)
            big++;
    assert_int_equal(big, 2);
}

static bool slow_cut(fixture *f)
{
    return f->closed[0];
}

static void test_slow_peer(void **state)
{
    enum { N = 200, SIZE = 64 * 1024 };
    fixture *f = *state;
    scn_server_options o;
    scn_server_stats st;
    scn_server_conn_stats fast_st;
    unsigned char *msg = malloc(SIZE);
    unsigned long crc = 0;
    char count[16], expect[64];
    uint64_t end;
    peer *slow, *fast;
    int sent = 0, notices = 0;

    assert_non_null(msg);
    server_opts(f, &o);
    o.queue_msgs = 16;
    o.queue_bytes = 1u << 20;
    o.slow_disconnect_ms = 500;
    assert_int_equal(start_server(f, &o), 0);

    slow = peer_start(f, "slow", scn_server_port(f->srv), "60", NULL, NULL);
    assert_true(peer_wait(f, slow, "READY", 20000));
    snprintf(count, sizeof(count), "%d", N);
    fast = peer_start(f, "fast", scn_server_port(f->srv), count, NULL, NULL);
    assert_true(peer_wait(f, fast, "READY", 20000));
    assert_true(run_until_cond(f, two_open, 20000));
    assert_int_equal(f->nconns, 2);

    /* Broadcast at the fast reader's pace: its queue never fills, the
     * slow one's does at once. */
    end = deadline_ms(f->loop, 60000);
    while (sent < N && scn_loop_now_ms(f->loop) < end) {
        scn_server_conn_stats cs;

        scn_server_conn_get_stats(f->conns[1], &cs);
        while (cs.queued_msgs < 8 && sent < N) {
            for (int i = 0; i < SIZE; i++)
                msg[i] = (unsigned char)(i * 31 + sent);
            msg[0] = (unsigned char)(sent >> 24);
            msg[1] = (unsigned char)(sent >> 16);
            msg[2] = (unsigned char)(sent >> 8);
            msg[3] = (unsigned char)sent;
            crc = crc32(crc, msg, SIZE);
            assert_true(scn_server_broadcast(f->srv, msg, SIZE, 1) >= 1);
            sent++;
            cs.queued_msgs++;
        }
        pump_all(f, 2);
    }
    assert_int_equal(sent, N);
    scn_server_conn_get_stats(f->conns[1], &fast_st);
    assert_int_equal(fast_st.dropped, 0);
    assert_int_equal(fast_st.slow, 0);

    /* The fast reader got everything, in order. */
    snprintf(expect, sizeof(expect), "GOT %d %lu ORDER", N, crc);
    assert_true(peer_wait(f, fast, expect, 30000));
    /* The slow one lost its oldest messages, was told, and was cut off. */
    assert_true(run_until_cond(f, slow_cut, 10000));
    assert_int_equal(f->close_code[0], 1013);
    scn_server_get_stats(f->srv, &st);
    assert_true(st.dropped_slow > 0);
    assert_int_equal(st.disconnected_slow, 1);
    for (int i = 0; i < f->nerrors; i++)
        if (f->errors[i] == SCN_ERR_QUEUE_FULL) {
            assert_ptr_equal(f->error_conn[i], f->conns[0]);
            notices++;
        }
    assert_int_equal(notices, 1);
    free(msg);
}

/* ------------------------------------------------------------------ */
/* Threads, closing, freeing                                           */
/* ------------------------------------------------------------------ */

typedef struct sender {
    fixture *f;
    scn_server_conn *conn;
    int failures;
} sender;

static void *send_from_thread(void *arg)
{
    sender *s = arg;
    char text[32];

    for (int i = 0; i < 100; i++) {
        int n = snprintf(text, sizeof(text), "thread %d", i);

        if (scn_server_conn_send(s->conn, text, (size_t)n, 0) != 0)
            s->failures++;
    }
    return NULL;
}

static void *broadcast_from_thread(void *arg)
{
    sender *s = arg;

    for (int i = 0; i < 100; i++)
        if (scn_server_broadcast(s->f->srv, "all", 3, 0) != 1)
            s->failures++;
    return NULL;
}

static bool one_conn(fixture *f)
{
    return f->nconns >= 1;
}

/* Messages from one thread arrive in the order it sent them. */
static bool in_order(const char *out, const char *fmt, int n)
{
    const char *at = out;
    char needle[32];

    for (int i = 0; i < n; i++) {
        snprintf(needle, sizeof(needle), fmt, i);
        at = strstr(at, needle);
        if (!at)
            return false;
    }
    return true;
}

static void test_threads_and_close(void **state)
{
    fixture *f = *state;
    scn_server_options o;
    scn_server_stats st;
    pthread_t t1, t2;
    sender s1, s2;
    peer *p;

    server_opts(f, &o);
    assert_int_equal(start_server(f, &o), 0);
    p = peer_start(f, "listen", scn_server_port(f->srv), NULL, NULL, NULL);
    assert_true(peer_wait(f, p, "OPEN", 20000));
    assert_true(run_until_cond(f, one_conn, 20000));

    /* Two threads queue while this one runs the loop. */
    s1 = (sender){f, f->conns[0], 0};
    s2 = (sender){f, f->conns[0], 0};
    assert_int_equal(pthread_create(&t1, NULL, send_from_thread, &s1), 0);
    assert_int_equal(pthread_create(&t2, NULL, broadcast_from_thread, &s2), 0);
    for (int i = 0; i < 20; i++)
        pump_all(f, 5);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_int_equal(s1.failures, 0);
    assert_int_equal(s2.failures, 0);
    assert_true(peer_wait(f, p, "MSG 200 ", 20000));
    assert_true(in_order(p->out, " thread %d\n", 100));

    assert_int_equal(scn_server_conn_close(f->conns[0], 1005, NULL),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_server_conn_close(f->conns[0], 4000, "bye"), 0);
    assert_int_equal(scn_server_conn_close(f->conns[0], 4000, "bye"),
                     SCN_ERR_STATE);
    assert_int_equal(scn_server_conn_send(f->conns[0], "late", 4, 0),
                     SCN_ERR_STATE);
    assert_true(peer_wait(f, p, "CLOSE 4000 bye", 20000));
    assert_true(run_until_cond(f, one_closed, 20000));
    assert_int_equal(f->close_code[0], 4000);
    scn_server_get_stats(f->srv, &st);
    assert_int_equal(st.messages_out, 200);
    assert_int_equal(st.connections_open, 0);
}

static void test_free_with_connections(void **state)
{
    fixture *f = *state;
    scn_server_options o;
    peer *a, *b, *c;
    int port;

    server_opts(f, &o);
    assert_int_equal(start_server(f, &o), 0);
    port = scn_server_port(f->srv);
    a = peer_start(f, "listen", port, NULL, NULL, NULL);
    b = peer_start(f, "listen", port, NULL, NULL, NULL);
    assert_true(peer_wait(f, a, "OPEN", 20000));
    assert_true(peer_wait(f, b, "OPEN", 20000));
    assert_true(run_until_cond(f, two_open, 20000));
    /* Queued but never written: counted, not lost silently. */
    assert_int_equal(scn_server_broadcast(f->srv, "x", 1, 0), 2);

    scn_server_free(f->srv);
    f->srv = NULL;
    assert_int_equal(f->closes, 2);
    assert_int_equal(f->close_code[0], 1001);
    assert_int_equal(f->close_code[1], 1001);
    /* No close frame: the peers see the connection end. */
    assert_true(peer_wait(f, a, "CLOSE 1006", 20000));
    assert_true(peer_wait(f, b, "CLOSE 1006", 20000));

    /* The port was released when scn_server_free returned. */
    o.port = port;
    assert_int_equal(start_server(f, &o), 0);
    assert_int_equal(scn_server_port(f->srv), port);
    c = peer_start(f, "status", port, "/", "-", NULL);
    assert_true(peer_wait(f, c, "OPEN -", 20000));
}

static void test_free_inside_callback(void **state)
{
    fixture *f = *state;
    scn_server_options o;
    peer *p;
    int port;

    server_opts(f, &o);
    assert_int_equal(start_server(f, &o), 0);
    port = scn_server_port(f->srv);
    f->free_on_message = true;
    p = peer_start(f, "listen", port, "free yourself", NULL, NULL);
    assert_true(peer_wait(f, p, "OPEN", 20000));
    /* on_message frees the server; the free completes from the loop, and
     * the connection still gets its on_close. */
    assert_true(run_until_cond(f, one_closed, 10000));
    assert_null(f->srv);
    assert_int_equal(f->messages, 1);
    assert_int_equal(f->close_code[0], 1001);
    assert_true(peer_wait(f, p, "CLOSE 1006", 20000));

    o.port = port;
    f->free_on_message = false;
    assert_int_equal(start_server(f, &o), 0);
}

static void test_two_servers_one_loop(void **state)
{
    fixture *f = *state;
    scn_server_options o;
    scn_server_stats st;
    scn_server *b = NULL;
    int pa, pb;
    peer *p;

    /* Different paths and subprotocols, one loop: each connection is
     * served by its own server's rules. */
    server_opts(f, &o);
    assert_int_equal(start_server(f, &o), 0);
    o.path = "/live";
    o.subprotocol = "dash.v1";
    assert_int_equal(scn_server_new(f->loop, &o, &b), 0);
    pa = scn_server_port(f->srv);
    pb = scn_server_port(b);
    assert_int_not_equal(pa, pb);
    p = peer_start(f, "listen", pb, "-", "/live", "dash.v1");
    assert_true(peer_wait(f, p, "OPEN", 20000));
    p = peer_start(f, "listen", pa, NULL, NULL, NULL);
    assert_true(peer_wait(f, p, "OPEN", 20000));
    for (int i = 0; i < 2; i++) {
        p = peer_start(f, "status", pb, "/live", "x.v1,dash.v1", NULL);
        assert_true(peer_wait(f, p, "OPEN dash.v1", 20000));
        p = peer_start(f, "status", pa, "/", "-", NULL);
        assert_true(peer_wait(f, p, "OPEN -", 20000));
        p = peer_start(f, "status", pa, "/", "dash.v1", NULL);
        assert_true(peer_wait(f, p, "STATUS 400", 20000));
        p = peer_start(f, "status", pb, "/live", "-", NULL);
        assert_true(peer_wait(f, p, "STATUS 400", 20000));
    }
    scn_server_get_stats(f->srv, &st);
    assert_int_equal(st.connections_accepted, 3);
    assert_int_equal(st.connections_refused, 2);
    scn_server_get_stats(b, &st);
    assert_int_equal(st.connections_accepted, 3);
    assert_int_equal(st.connections_refused, 2);
    /* A broadcast reaches its own server's connections only. */
    assert_int_equal(scn_server_broadcast(b, "b only", 6, 0), 1);
    assert_true(peer_wait(f, &f->peers[0], "MSG 1 b only", 20000));
    scn_server_free(b);
    assert_true(peer_wait(f, &f->peers[0], "CLOSE 1006", 20000));
    assert_null(strstr(f->peers[1].out, "CLOSE"));
}

/* A dashboard's process dies (kill -9) while messages flow to it: the
 * server sees the end, reports it once, and the other peer goes on
 * receiving everything sent after. */
static void test_peer_killed_midstream(void **state)
{
    enum { SIZE = 16 * 1024 };
    fixture *f = *state;
    scn_server_options o;
    scn_server_stats st;
    char *big = malloc(SIZE + 1);
    peer *a, *b;
    uint64_t end;

    assert_non_null(big);
    memset(big, 'x', SIZE);
    big[SIZE] = '\0';
    server_opts(f, &o);
    assert_int_equal(start_server(f, &o), 0);
    a = peer_start(f, "listen", scn_server_port(f->srv), NULL, NULL, NULL);
    assert_true(peer_wait(f, a, "OPEN", 20000));
    b = peer_start(f, "listen", scn_server_port(f->srv), NULL, NULL, NULL);
    assert_true(peer_wait(f, b, "OPEN", 20000));
    assert_true(run_until_cond(f, two_open, 20000));
    assert_int_equal(scn_server_broadcast(f->srv, "first", 5, 0), 2);
    assert_true(peer_wait(f, a, "MSG 1 first", 20000));
    assert_true(peer_wait(f, b, "MSG 1 first", 20000));

    /* Killed while the server keeps sending to it. */
    py_peer_stop(a);
    end = scn_loop_now_ms(f->loop) + 20000;
    while (!f->closed[0] && scn_loop_now_ms(f->loop) < end) {
        scn_server_broadcast(f->srv, big, SIZE, 1);
        pump_all(f, 5);
    }
    assert_true(f->closed[0]);
    assert_false(f->closed[1]);
    assert_int_equal(f->closes, 1);
    scn_server_get_stats(f->srv, &st);
    assert_int_equal(st.connections_open, 1);
    /* The other one still gets what is sent now. */
    assert_int_equal(scn_server_broadcast(f->srv, "after", 5, 0), 1);
    assert_true(peer_wait(f, b, " after", 30000));
    free(big);
}

static bool saw_io_error(fixture *f)
{
    return f->io_errors > 0;
}

static void test_accept_pauses_without_fds(void **state)
{
    fixture *f = *state;
    scn_server_options o;
    struct rlimit old, low;
    uint64_t end;
    bool seen;
    int lowest, errors;
    peer *p;

    server_opts(f, &o);
    assert_int_equal(start_server(f, &o), 0);
    p = peer_start(f, "status", scn_server_port(f->srv), "/", "-", NULL);
    assert_non_null(p);
    /* No descriptor can be allocated any more: accept() fails with
     * EMFILE while the peer waits in the backlog. */
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    lowest = dup(0);
    assert_true(lowest >= 0);
    close(lowest);
    low = old;
    low.rlim_cur = (rlim_t)lowest;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    seen = run_until_cond(f, saw_io_error, 20000);
    /* Paused rather than spinning: a few failures in 600 ms, not one per
     * loop turn. */
    end = scn_loop_now_ms(f->loop) + 600;
    while (scn_loop_now_ms(f->loop) < end)
        pump_all(f, 5);
    errors = f->io_errors;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_true(seen);
    assert_true(errors >= 1 && errors <= 5);
    /* Accepting resumes by itself once descriptors are back. */
    assert_true(peer_wait(f, p, "OPEN -", 20000));
}

/* ------------------------------------------------------------------ */
/* A reader that stalls                                                */
/* ------------------------------------------------------------------ */

/* Reads what is there now, without blocking. Returns 1 at the peer's
 * end, 0 when nothing more is there yet, -1 on an error or overflow. */
static int drain_socket(int fd, unsigned char *buf, size_t cap, size_t *len)
{
    for (;;) {
        ssize_t n;

        if (*len == cap)
            return -1;
        n = recv(fd, buf + *len, cap - *len, MSG_DONTWAIT);
        if (n > 0) {
            *len += (size_t)n;
            continue;
        }
        if (n == 0)
            return 1;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
}

static const unsigned char *find_bytes(const unsigned char *h, size_t hn,
                                       const char *needle)
{
    size_t nn = strlen(needle);

    for (size_t i = 0; i + nn <= hn; i++)
        if (!memcmp(h + i, needle, nn))
            return h + i;
    return NULL;
}

static void test_large_answer_to_a_stalled_reader(void **state)
{
    enum { SIZE = 3 * 1024 * 1024 };
    fixture *f = *state;
    scn_server_options o;
    scn_server_asset asset;
    struct sockaddr_in sa;
    unsigned char *body = malloc(SIZE), *got;
    const unsigned char *head_end;
    size_t cap = SIZE + 64 * 1024, len = 0;
    const char *req = "GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    char two[256];
    uint64_t end;
    int fd, small = 4096, rc = 0;

    got = malloc(cap);
    assert_non_null(body);
    assert_non_null(got);
    for (size_t i = 0; i < SIZE; i++)
        body[i] = (unsigned char)((i * 2654435761u) >> 13);
    memset(&asset, 0, sizeof(asset));
    asset.path = "/big.bin";
    asset.content_type = "application/octet-stream";
    asset.data = body;
    asset.len = SIZE;
    server_opts(f, &o);
    o.assets = &asset;
    o.asset_count = 1;
    o.socket_send_buffer = 16 * 1024;
    assert_int_equal(start_server(f, &o), 0);

    /* A reader with a small window that does not read for a while: most
     * of the answer waits in the server, which must send all of it, in
     * order, once the reader reads. The request is pipelined, so the
     * answer closes the connection: the end (FIN, not a reset) must come
     * after the last byte, not while bytes still wait. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)scn_server_port(f->srv));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    snprintf(two, sizeof(two), "%s%s", req, req);
    assert_int_equal(send(fd, two, strlen(two), 0), (ssize_t)strlen(two));
    end = scn_loop_now_ms(f->loop) + 500;
    while (scn_loop_now_ms(f->loop) < end)
        pump_all(f, 5);
    end = deadline_ms(f->loop, 60000);
    while (rc == 0 && scn_loop_now_ms(f->loop) < end) {
        rc = drain_socket(fd, got, cap, &len);
        pump_all(f, 2);
    }
    close(fd);
    assert_int_equal(rc, 1);
    head_end = find_bytes(got, len, "\r\n\r\n");
    assert_non_null(head_end);
    assert_memory_equal(got, "HTTP/1.1 200", 12);
    assert_non_null(
        find_bytes(got, (size_t)(head_end - got), "Content-Length: 3145728"));
    assert_non_null(
        find_bytes(got, (size_t)(head_end - got), "Connection: close"));
    head_end += 4;
    assert_int_equal((size_t)(got + len - head_end), SIZE);
    assert_memory_equal(head_end, body, SIZE);
    free(got);
    scn_server_free(f->srv);
    f->srv = NULL;
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_options_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions_get_frames, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_binary_text_fragmented_echo, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_allow_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversize_closes_1009, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_slow_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_and_close, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_free_with_connections, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_free_inside_callback, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_two_servers_one_loop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_peer_killed_midstream, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_large_answer_to_a_stalled_reader,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_accept_pauses_without_fds, setup,
                                        teardown),
    };

    return test_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
