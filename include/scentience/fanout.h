/**
 * @file
 *
 * Live fan-out for dashboards: a WebSocket endpoint (ws://host:port/live,
 * subprotocol "scentience.live.v1") on an scn_loop where each subscriber
 * names the streams it wants ("olfaction", "uav.state", "inference",
 * "events", or any other name; "*" for all) and gets every message
 * published on them, in publication order. The wire protocol is in
 * docs/PROTOCOL.md section 10.
 *
 * Built on scn_server: each subscriber has its own bounded queue. A slow
 * subscriber loses its oldest messages (counted), is told so with a
 * {"type":"dropped"} notice queued behind what it has not read yet, and is
 * cut off (close 1013) when it stays behind for slow_disconnect_ms.
 * Publishing never waits for a subscriber.
 *
 * The subprotocol is required: a client that offers none is refused with
 * HTTP 400 (browsers: new WebSocket(url, "scentience.live.v1")). Serving
 * both would need scn_server to accept a client that offers nothing while
 * a subprotocol is set; a versioned name lets a v2 endpoint coexist.
 *
 * Threading: scn_fanout_publish(), scn_fanout_get_stats() and
 * scn_fanout_subscribers() are thread-safe. scn_fanout_new() and
 * scn_fanout_free() run on the loop's thread (or while it is not running),
 * and no other thread may still be publishing when free is called.
 */
#ifndef SCENTIENCE_FANOUT_H
#define SCENTIENCE_FANOUT_H

#include <stddef.h>
#include <stdint.h>
#include <scentience/options.h>
#include <scentience/common.h>
#include <scentience/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The URL path dashboards connect to. */
#define SCN_FANOUT_PATH "/live"
/** The WebSocket subprotocol of the live fan-out (docs/PROTOCOL.md section 10).
 */
#define SCN_FANOUT_SUBPROTOCOL "scentience.live.v1"
/** Longest stream name; names are [A-Za-z0-9._-]+ ("*" means all). */
#define SCN_FANOUT_STREAM_MAX 63
/** Streams one subscriber may name at once. */
#define SCN_FANOUT_MAX_STREAMS 32

/** A live fan-out server: dashboards subscribe to streams and get their
 * messages in batches (opaque). */
typedef struct scn_fanout scn_fanout;

/** Options of scn_fanout_new(); initialise with scn_fanout_options_init(). */
typedef struct scn_fanout_options {
    size_t struct_size; /**< set by _options_init() (options.h) */
    /** IP literal to listen on. NULL: "127.0.0.1" (loopback only). */
    const char *bind_address;
    int port; /**< 0: ephemeral, see scn_fanout_port() */
    /** Allowed peers (addresses and CIDR prefixes), as scn_server's. */
    const char *const *allow;
    size_t allow_count;     /**< entries in allow */
    size_t max_subscribers; /**< (16) */
    size_t queue_msgs;      /**< per subscriber (1024) */
    size_t queue_bytes;     /**< per subscriber (4 MiB) */
    /** A subscriber behind this long is cut off with 1013 (5000). There is
     * no "never": a dashboard that stops reading must not hold the
     * companion's memory and a connection slot for ever. */
    uint32_t slow_disconnect_ms;
    /** Writes to one subscriber at most this often (ms): what was published
     * meanwhile goes out together, as consecutive WebSocket messages in
     * one write. Taken as given, unlike the fields above: 0 writes at
     * once; scn_fanout_options_init() sets 100. */
    uint32_t flush_interval_ms;
    /** A connection that has not subscribed to anything this long after
     * its handshake is closed (1001); once it has, it may stay quiet
     * (10000). */
    uint32_t idle_timeout_ms;
} scn_fanout_options;

/** Counters of a fan-out (scn_fanout_get_stats()). */
typedef struct scn_fanout_stats {
    uint64_t subscribers; /**< connected now */
    /** Calls of scn_fanout_publish() that were accepted, per stream. */
    uint64_t published_olfaction;
    uint64_t published_uav_state; /**< accepted on "uav.state" */
    uint64_t published_inference; /**< accepted on "inference" */
    uint64_t published_events;    /**< accepted on "events" */
    uint64_t published_other;     /**< any other stream name */
    /** Copies of published messages queued for subscribers (one publish
     * reaching three subscribers counts three). */
    uint64_t delivered;
    /** Messages written to subscribers' sockets, and the writes that took
     * them (several messages share a write, see flush_interval_ms). */
    uint64_t written;
    uint64_t writes; /**< socket writes that carried them */
    /** Oldest messages dropped from subscribers' full queues. */
    uint64_t dropped;
    uint64_t dropped_notices;   /**< {"type":"dropped"} notices queued */
    uint64_t disconnected_slow; /**< subscribers cut off for staying behind
                                   (close 1013) */
    uint64_t bad_requests;      /**< requests answered with an error */
} scn_fanout_stats;

/** One subscriber, for a status display or a test. */
typedef struct scn_fanout_subscriber_info {
    char peer[48];         /**< its IP address */
    int all;               /**< subscribed to "*" */
    size_t nstreams;       /**< streams it named (0 with all) */
    uint64_t delivered;    /**< published messages queued for it */
    uint64_t dropped;      /**< its oldest messages dropped */
    size_t queued_msgs;    /**< waiting in its queue now */
    uint64_t bad_requests; /**< its requests answered with an error */
} scn_fanout_subscriber_info;

/** What scn_fanout_options_init() calls, with the caller's
 * sizeof(scn_fanout_options) (scentience/options.h). */
SCN_API void scn_fanout_options_init_sized(scn_fanout_options *opts,
                                           size_t size);

/** Fills opts with every default (NULL pointers, port 0). */
static inline void scn_fanout_options_init(scn_fanout_options *opts)
{
    scn_fanout_options_init_sized(opts, sizeof(*opts));
}

/** Starts listening on the loop. Fields left 0 get their default. Returns
 * 0, SCN_ERR_INVALID_ARG, SCN_ERR_STATE, SCN_ERR_NOMEM or the socket
 * errors of scn_server_new() (SCN_ERR_ADDRESS_IN_USE...). */
SCN_API int scn_fanout_new(scn_loop *loop, const scn_fanout_options *opts,
                           scn_fanout **out);

/** Closes every subscriber (1001) and frees. NULL is allowed. */
SCN_API void scn_fanout_free(scn_fanout *fo);

/** The port it listens on (the one the kernel chose for port 0). */
SCN_API int scn_fanout_port(const scn_fanout *fo);

/**
 * Queues {"type":"message","stream":STREAM,"data":JSON} on every
 * subscriber of stream (the envelope is built once). json must be one
 * complete JSON value (it is checked, so that one bad publish cannot
 * break every dashboard's parser). Thread-safe, never waits for a peer.
 * Returns the number of subscribers it was queued for (>= 0),
 * SCN_ERR_INVALID_ARG (bad stream name, NULL), SCN_ERR_MALFORMED (json is
 * not JSON), SCN_ERR_MESSAGE_TOO_BIG (envelope over queue_bytes),
 * SCN_ERR_NOMEM.
 */
SCN_API int scn_fanout_publish(scn_fanout *fo, const char *stream,
                               const char *json, size_t len);

/** Thread-safe snapshot of the counters. */
SCN_API void scn_fanout_get_stats(scn_fanout *fo, scn_fanout_stats *out);

/** Thread-safe: fills up to cap entries, in connection order, and returns
 * how many subscribers there are. */
SCN_API size_t scn_fanout_subscribers(scn_fanout *fo,
                                      scn_fanout_subscriber_info *out,
                                      size_t cap);

#ifdef __cplusplus
}
#endif

#endif
