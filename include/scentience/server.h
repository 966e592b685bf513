/**
 * @file
 *
 * A WebSocket server on an scn_loop: the endpoint a drone pushes its state
 * strings or video frames to, or that dashboards subscribe to. It accepts
 * connections, delivers every complete message to on_message, and sends
 * text or binary messages to one connection or to all of them, each
 * connection with its own bounded outbound queue.
 *
 * Callback contract:
 * - Callbacks run on the loop's thread. Pointers they receive (peer, path,
 *   data, detail) are valid only during the call; copy what you keep.
 * - A connection handle (scn_server_conn) is valid from the on_connect that
 *   accepted it until its on_close returns; it is freed right after. Every
 *   accepted connection gets exactly one on_close, also when the server is
 *   freed. A refused connection never gets on_close.
 * - scn_server_free() called inside any callback on the loop is deferred
 *   until the callback has returned; it is safe.
 * - A failed call never fires a callback for that call.
 *
 * Threading: scn_server_conn_send, scn_server_broadcast, scn_server_conn_close
 * and the stats getters are thread-safe: they lock the server's queues and
 * wake the loop, and only the loop thread writes to sockets (one write per
 * writeable event, of the queued messages that fit 64 KiB, so each socket
 * sets its own pace). A thread other than the loop's that sends to a
 * connection must know the handle is still valid:
 * keep handles in a table guarded by a lock of yours, remove them in on_close
 * under that lock, and send while holding it. Everything else is called on
 * the loop's thread or while the loop is not running.
 *
 * One port can serve several WebSocket endpoints (routes: a path and the
 * subprotocols it accepts) and files to plain HTTP GET requests (assets),
 * so that a browser gets a page and its data from the same origin.
 *
 * Limits and liveness: at most max_connections at once and
 * max_per_address from one address; a client over either gets an HTTP
 * 503 answer with Retry-After (not a bare TCP close), unless evict_idle_ms
 * lets it take the place of a connection that has been silent that long.
 * A request head must arrive within request_timeout_ms; a WebSocket with
 * no message for idle_timeout_ms is closed (1001); with ping_interval_ms
 * set, a silent peer is pinged and one that does not answer within
 * pong_timeout_ms is cut off as dead. Client frames are checked as RFC
 * 6455 requires (masked, valid opcodes and lengths, text in UTF-8: 1002,
 * 1007); Sec-WebSocket-Version other than 13 gets HTTP 426.
 *
 * Access (docs/PROTOCOL.md 11.4): with a token, every peer not on
 * loopback must present it (HTTP 401 otherwise); a request with an Origin
 * (a browser) must come from the server's own origin or a listed one
 * (403). With tls_cert_file and tls_key_file the port speaks only TLS
 * (https and wss).
 *
 * Slow peers: when a connection's outbound queue is full, its oldest message
 * is dropped to make room (the newest data matters most to a live view) and
 * counted. The first drop after the peer had caught up reports on_error with
 * SCN_ERR_QUEUE_FULL and the connection, so the application can tell the
 * peer; the peer counts as caught up again once its queue has drained to
 * half of both limits. With slow_disconnect_ms set, a peer that stays behind
 * that long is cut off: on_close reports 1013. It gets no close frame, as a
 * peer that does not read could not see one anyway.
 */
#ifndef SCENTIENCE_SERVER_H
#define SCENTIENCE_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <scentience/options.h>
#include <scentience/common.h>
#include <scentience/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A WebSocket server on a loop (opaque). */
typedef struct scn_server scn_server;
/** One connection to a server (opaque; valid until its on_close returns). */
typedef struct scn_server_conn scn_server_conn;

/** One WebSocket endpoint of a server. */
typedef struct scn_server_route {
    const char *path; /**< exact request path, without the query */
    /** Subprotocols accepted, in the server's order of preference: a
     * client must offer one, and the first offered is selected. None: a
     * client that offers any is refused with HTTP 400. */
    const char *const *subprotocols;
    size_t subprotocol_count; /**< entries in subprotocols */
} scn_server_route;

/** A file served to GET and HEAD requests, with an ETag (revalidated on
 * every use: Cache-Control no-cache) and security headers
 * (Content-Security-Policy: same origin only). Not copied: data must
 * outlive the server (built-in files are static). */
typedef struct scn_server_asset {
    const char *path;         /**< "/index.html"; "/" falls back to it */
    const char *content_type; /**< NULL: from the extension */
    const void *data;         /**< the bytes */
    size_t len;               /**< their length */
} scn_server_asset;

/** What a server tells the application; every callback may be NULL. */
typedef struct scn_server_callbacks {
    /** A WebSocket upgrade request from peer (an IP address: "127.0.0.1",
     * "::1") for path (without the query), after the allow list, the
     * limits, the access checks, the path and the subprotocol were
     * checked (scn_server_conn_route() and _subprotocol() tell which were
     * matched). Return 0 to accept, nonzero to refuse it with HTTP 403.
     * The handshake completes after this returns; messages sent to conn
     * meanwhile are written once it has. NULL: accept every request. */
    int (*on_connect)(scn_server *srv, scn_server_conn *conn, const char *peer,
                      const char *path, void *user);
    /** One complete message, reassembled from its fragments. Text is passed
     * as received (not checked for UTF-8) and is not NUL-terminated. While
     * this runs the connection does not read, so a slow callback makes TCP
     * push back on the peer. */
    void (*on_message)(scn_server *srv, scn_server_conn *conn, const void *data,
                       size_t len, int is_binary, void *user);
    /** The connection is gone. code: the close code we closed with (1009 a
     * message over max_message_bytes, 1002 a protocol error, 1007 text
     * that is not UTF-8, 1013 too slow, 1001 idle or the server is being
     * freed, 1006 a dead peer cut off, or the code given to
     * scn_server_conn_close), else the
     * peer's close code, 1005 when its close frame had none, 1006 when the
     * connection dropped without a close frame. */
    void (*on_close)(scn_server *srv, scn_server_conn *conn, int code,
                     void *user);
    /** A non-fatal problem: a message over the limit (MESSAGE_TOO_BIG), a
     * slow peer's first dropped message (QUEUE_FULL), a failed accept (IO,
     * NOMEM). conn is NULL when no connection is concerned. */
    void (*on_error)(scn_server *srv, scn_server_conn *conn, int err,
                     const char *detail, void *user);
} scn_server_callbacks;

/** Options of scn_server_new(); initialise with scn_server_options_init(). */
typedef struct scn_server_options {
    size_t struct_size; /**< set by _options_init() (options.h) */
    /** IP address literal to listen on. NULL: "127.0.0.1". Listening on
     * every interface takes an explicit "0.0.0.0" (IPv4) or "::" (IPv6 and
     * IPv4). Interface names are not accepted. */
    const char *bind_address;
    int port; /**< 0: ephemeral, see scn_server_port() */
    /** Request path that is served, e.g. "/live"; others get HTTP 404. The
     * query string is not part of it. NULL: any path. Ignored (with
     * subprotocol) when routes are given. */
    const char *path;
    /** Subprotocol the server selects. Set: a client must offer it. NULL:
     * the server selects none, and a client that offers subprotocols is
     * refused with HTTP 400 (libwebsockets 4.1 cannot accept an offer
     * without selecting from it). */
    const char *subprotocol;
    /** Peers allowed to connect: IPv4 or IPv6 addresses ("192.168.10.1",
     * "::1") and CIDR prefixes ("192.168.10.0/24", "fd00::/8"; host bits
     * are ignored). An IPv4 peer reaching an IPv6 socket (an IPv4-mapped
     * address) is matched as IPv4. Others are disconnected as soon as they are
     * accepted, before any byte is read, and counted in refused_address.
     * NULL or allow_count 0: every peer may connect (the bind address is
     * then the only restriction). */
    const char *const *allow;
    size_t allow_count;       /**< entries in allow */
    size_t max_message_bytes; /**< inbound; larger: close 1009 (1 MiB) */
    size_t queue_msgs;        /**< outbound per connection (1024) */
    size_t queue_bytes;       /**< (4 MiB) */
    /** Cut off a peer that stays behind this long (see above); 0: never. */
    uint32_t slow_disconnect_ms;
    /** Connections at once, handshakes and HTTP requests included; more
     * get HTTP 503 with Retry-After and are counted in refused_busy (64).
     * Beyond a quarter more, they are disconnected at once. */
    size_t max_connections;
    /** Connections at once from one address (0: max_connections). */
    size_t max_per_address;
    /** A connection over a limit takes the place of the one (from the
     * same address, for the per-address limit) that has sent no message
     * for longest, if that is at least this long (0: never). For a server
     * one peer pushes to, such as a drone's state: its reconnection is
     * let in while the dead connection it replaces still counts. */
    uint32_t evict_idle_ms;
    /** Seconds in the Retry-After of a 503 (5). */
    uint32_t retry_after_s;
    /** A request head must be complete this long (ms) after the connection
     * was accepted or its previous answer was written (10000). */
    uint32_t request_timeout_ms;
    /** A WebSocket that sends no message for this long (ms) is closed
     * with 1001; 0: never. scn_server_conn_set_idle_timeout() changes it
     * for one connection. */
    uint32_t idle_timeout_ms;
    /** Ping a peer that has sent nothing for ping_interval_ms; cut it off
     * (on_close 1006) when it stays silent pong_timeout_ms more (default
     * ping_interval_ms). 0: no pings. */
    uint32_t ping_interval_ms;
    uint32_t pong_timeout_ms; /**< see ping_interval_ms */

    /** Several endpoints on the port (path and subprotocol unused). */
    const scn_server_route *routes;
    size_t route_count; /**< entries in routes */
    /** Files for plain HTTP requests; without them, those get 404. */
    const scn_server_asset *assets;
    size_t asset_count; /**< entries in assets */

    /** Access (see above). token: 16-128 of [A-Za-z0-9._~-], copied;
     * NULL: no token. origins: full origins ("https://host:port") allowed
     * besides the server's own. */
    const char *token;
    const char *const *origins; /**< see token */
    size_t origin_count;        /**< entries in origins */
    /** PEM files; both set: TLS only. The key file must not be readable by
     * group or others. */
    const char *tls_cert_file;
    const char *tls_key_file; /**< see tls_cert_file */
    /** Kernel send buffer of each connection (SO_SNDBUF); 0: the kernel's
     * autotuned default, which can hold megabytes. Set it small when a
     * peer that stops reading must show up as slow quickly (the outbound
     * queue only fills once the socket buffer has). */
    size_t socket_send_buffer;
    /** Writes to one connection at most this often (ms): messages queued
     * meanwhile go out together, as consecutive WebSocket messages in one
     * write (fewer system calls per message when there are many peers).
     * A peer behind on its queue is still written to as fast as its
     * socket drains. 0: write as soon as the socket is writeable. */
    uint32_t write_interval_ms;

    scn_server_callbacks callbacks; /**< the callbacks */
    void *user;                     /**< passed to every callback */
} scn_server_options;

/** Counters of a server (scn_server_get_stats()). */
typedef struct scn_server_stats {
    uint64_t connections_accepted; /**< handshakes completed */
    /** Connections refused: too many, wrong path or subprotocol, refused by
     * on_connect, access denied, bad requests. Peers outside the allow
     * list are counted apart. */
    uint64_t connections_refused;
    uint64_t refused_address;  /**< disconnected at once: not allowed */
    uint64_t connections_open; /**< now */
    uint64_t messages_in;      /**< complete messages received */
    uint64_t bytes_in;         /**< payload bytes of complete messages */
    uint64_t messages_out;     /**< written to sockets */
    uint64_t bytes_out;        /**< payload bytes written */
    uint64_t writes;           /**< socket writes: queued messages share one */
    uint64_t dropped_slow; /**< oldest outbound messages dropped: queue full */
    uint64_t disconnected_slow; /**< peers cut off for staying behind
                                   (slow_disconnect_ms) */
    uint64_t oversize;          /**< inbound messages over max_message_bytes */
    uint64_t dropped_unsent;  /**< still queued when their connection closed */
    uint64_t refused_busy;    /**< 503: over a connection limit */
    uint64_t refused_access;  /**< 401 and 403 of the access checks */
    uint64_t evicted;         /**< silent connections replaced */
    uint64_t http_requests;   /**< plain HTTP requests answered */
    uint64_t idle_closed;     /**< idle or no request head in time */
    uint64_t dead_peers;      /**< no answer to a ping: cut off */
    uint64_t protocol_errors; /**< closed with 1002 or 1007 */
    uint64_t tls_failures;    /**< TLS handshakes that failed */
} scn_server_stats;

/** Counters of one connection (scn_server_conn_get_stats()). */
typedef struct scn_server_conn_stats {
    uint64_t messages_in;  /**< complete messages received */
    uint64_t bytes_in;     /**< their payload bytes */
    uint64_t messages_out; /**< messages written to its socket */
    uint64_t bytes_out;    /**< their payload bytes */
    uint64_t dropped;      /**< oldest messages dropped: queue full */
    size_t queued_msgs;    /**< outbound, now */
    size_t queued_bytes;   /**< outbound bytes queued now */
    int slow;              /**< behind since its last drop (see above) */
} scn_server_conn_stats;

/** What scn_server_options_init() calls, with the caller's
 * sizeof(scn_server_options) (scentience/options.h). */
SCN_API void scn_server_options_init_sized(scn_server_options *opts,
                                           size_t size);

/** Fills opts with every default (zeros for pointers). Size and count
 * fields left 0 also get their default in scn_server_new(). */
static inline void scn_server_options_init(scn_server_options *opts)
{
    scn_server_options_init_sized(opts, sizeof(*opts));
}

/**
 * Creates a server on the loop and starts listening. Everything opts points
 * to is copied. Must be called on the loop's thread or while the loop is
 * not running.
 * Returns 0, SCN_ERR_INVALID_ARG (no loop, opts or out; a bind address or
 * allow entry that is not an IP literal or prefix; port out of range; a
 * path not starting with '/'; an empty subprotocol; a malformed token;
 * only one of the TLS files), SCN_ERR_TLS (the certificate or key cannot
 * be loaded, or the key file is readable by group or others: the log says
 * which), SCN_ERR_STATE (called from another thread while the loop runs),
 * SCN_ERR_NOMEM, or why socket, bind or listen failed (the loop's log says
 * it too): SCN_ERR_ADDRESS_IN_USE (the port is taken),
 * SCN_ERR_ADDRESS_UNAVAILABLE (not a local address), SCN_ERR_PERMISSION
 * (a port below 1024 without the privilege), else SCN_ERR_IO.
 */
SCN_API int scn_server_new(scn_loop *loop, const scn_server_options *opts,
                           scn_server **out);

/** Stops listening, closes every connection (each gets on_close 1001; their
 * peers see the TCP connection end) and frees the server. Outside
 * callbacks the port is released when this returns; inside, it is deferred
 * until the callback returns. NULL is allowed. Must be called on the loop's
 * thread or while the loop is not running. scn_loop_free() frees servers
 * still on the loop the same way. */
SCN_API void scn_server_free(scn_server *srv);

/** The port the server listens on (the one chosen when opts.port was 0). */
SCN_API int scn_server_port(const scn_server *srv);

/** Queues a copy of data on every open connection (not on those still in
 * their handshake). Thread-safe. A full queue drops its oldest message.
 * Returns the number of connections it was queued on (>= 0),
 * SCN_ERR_INVALID_ARG, SCN_ERR_MESSAGE_TOO_BIG (len > queue_bytes),
 * SCN_ERR_NOMEM (some connections may have it). */
SCN_API int scn_server_broadcast(scn_server *srv, const void *data, size_t len,
                                 int is_binary);

/** Thread-safe snapshot of the server's counters. */
SCN_API void scn_server_get_stats(scn_server *srv, scn_server_stats *out);

/** Queues a copy of data on one connection; from on_connect on it is
 * written once the handshake completes. A full queue drops its oldest
 * message. Thread-safe (see the handle rule above). Returns 0,
 * SCN_ERR_INVALID_ARG, SCN_ERR_MESSAGE_TOO_BIG (len > queue_bytes),
 * SCN_ERR_STATE (the connection is closing), SCN_ERR_NOMEM. */
SCN_API int scn_server_conn_send(scn_server_conn *conn, const void *data,
                                 size_t len, int is_binary);

/** Closes one connection with a close frame of code (1000-1003, 1007-1014 or
 * 3000-4999) and reason (at most 123 bytes are sent; NULL: none). Messages
 * still queued for it are discarded (counted in dropped_unsent). on_close
 * follows; a peer that does not read is cut off after 5 s. Thread-safe.
 * Returns 0, SCN_ERR_INVALID_ARG, SCN_ERR_STATE (already closing). */
SCN_API int scn_server_conn_close(scn_server_conn *conn, int code,
                                  const char *reason);

/** Closes every open connection with code and reason once what is queued
 * for it has been written (a last message is not lost), unlike
 * scn_server_conn_close, which discards it. Thread-safe. Returns the
 * number of connections it applies to, SCN_ERR_INVALID_ARG. */
SCN_API int scn_server_close_all(scn_server *srv, int code, const char *reason);

/** The peer's IP address ("127.0.0.1", "::1"). */
SCN_API const char *scn_server_conn_peer(const scn_server_conn *conn);

/** The application's pointer for this connection; NULL until set. */
SCN_API void *scn_server_conn_get_user(const scn_server_conn *conn);
/** Sets the application's pointer for this connection. */
SCN_API void scn_server_conn_set_user(scn_server_conn *conn, void *user);

/** The route the connection was accepted on (index into opts.routes; 0
 * without routes). */
SCN_API size_t scn_server_conn_route(const scn_server_conn *conn);
/** The subprotocol selected for the connection (NULL: none). */
SCN_API const char *scn_server_conn_subprotocol(const scn_server_conn *conn);

/** This connection's idle limit (ms; 0: never), counted from now. For a
 * protocol whose clients go quiet once set up (a subscriber), or that
 * must say something soon. Loop thread only. */
SCN_API void scn_server_conn_set_idle_timeout(scn_server_conn *conn,
                                              uint32_t ms);

/** The server the connection belongs to. */
SCN_API scn_server *scn_server_conn_server(const scn_server_conn *conn);

/** Thread-safe snapshot of one connection's counters. */
SCN_API void scn_server_conn_get_stats(scn_server_conn *conn,
                                       scn_server_conn_stats *out);

#ifdef __cplusplus
}
#endif

#endif
