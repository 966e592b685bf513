/**
 * @file
 *
 * The live listener a companion (or a replay) serves to people: one port
 * with three things on it, told apart by the request (docs/PROTOCOL.md
 * 11):
 *
 * - the Foxglove WebSocket protocol on "/" for clients offering
 *   "foxglove.sdk.v1" or "foxglove.websocket.v1": serverInfo, advertise
 *   of every channel (topic, schema name, JSON Schema), subscribe,
 *   unsubscribe, message data (opcode 1, subscription id, receive time,
 *   the JSON payload), unadvertise when a channel is removed;
 * - the scentience.live.v1 fan-out on "/live" (fanout.h,
 *   docs/PROTOCOL.md 10), unchanged;
 * - files (a dashboard page and its assets) to plain HTTP GET.
 *
 * Off the board: bind_address other than loopback, an allow list, a
 * dashboard token every peer not on loopback must present, Origin checks
 * for browsers, TLS (https and wss). The dashboard token is not the
 * Scentience API key and must never be.
 *
 * Each published message is built once and shared by every subscriber's
 * queue (one reference-counted copy, not one per subscriber). Slow
 * subscribers of either protocol lose their oldest messages and are cut
 * off after slow_disconnect_ms; publishing never waits for one.
 *
 * Threading: scn_live_publish(), scn_live_get_stats() are thread-safe;
 * the rest runs on the loop's thread (or while it is not running).
 */
#ifndef SCENTIENCE_LIVE_H
#define SCENTIENCE_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include <scentience/options.h>
#include <scentience/common.h>
#include <scentience/fanout.h>
#include <scentience/frame.h>
#include <scentience/loop.h>
#include <scentience/server.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A live listener: Foxglove, /live and files on one port (opaque). */
typedef struct scn_live scn_live;

/** Options of scn_live_new(); start from scn_live_options_init(). */
typedef struct scn_live_options {
    size_t struct_size; /**< set by _options_init() (options.h) */
    /** IP literal to listen on. NULL: "127.0.0.1" (loopback only). */
    const char *bind_address;
    int port;                 /**< 0: ephemeral, see scn_live_port() */
    const char *const *allow; /**< addresses and CIDR prefixes (server.h) */
    size_t allow_count;       /**< entries in allow; 0: every address */
    /** The dashboard token (16-128 of [A-Za-z0-9._~-]), required from
     * every peer not on loopback; NULL: none. Read it from a file, never
     * from a command line. Copied. */
    const char *token;
    /** Origins allowed besides the page's own ("https://host:port"). */
    const char *const *origins;
    size_t origin_count; /**< entries in origins */
    /** PEM certificate chain: TLS only (https, wss), with tls_key_file. */
    const char *tls_cert_file;
    const char *tls_key_file; /**< its PEM private key (owner-only file) */
    size_t max_connections;   /**< at once, all kinds (64) */
    size_t max_per_address;   /**< connections from one address (16) */
    /** A WebSocket that has not subscribed this long is closed (10000). */
    uint32_t idle_timeout_ms;
    /** Ping a silent peer after this long; cut it off when it does not
     * answer within as long again (15000; see server.h). */
    uint32_t ping_interval_ms;
    size_t queue_msgs;           /**< per subscriber (1024) */
    size_t queue_bytes;          /**< per subscriber (4 MiB) */
    uint32_t slow_disconnect_ms; /**< behind this long: cut off (5000) */
    /** Writes to one subscriber at most this often (ms); taken as given:
     * 0 writes at once; scn_live_options_init() sets 100. */
    uint32_t flush_interval_ms;
    /** Files served to GET (not copied: they must outlive the listener). */
    const scn_server_asset *assets;
    size_t asset_count; /**< entries in assets */
    /** serverInfo's name for Foxglove ("scentience"). */
    const char *name;
} scn_live_options;

/** Counters of a live listener (scn_live_get_stats()). */
typedef struct scn_live_stats {
    scn_fanout_stats live;           /**< the /live fan-out (fanout.h) */
    uint64_t foxglove_clients;       /**< connected now */
    uint64_t foxglove_subscriptions; /**< now, all clients */
    uint64_t foxglove_delivered;    /**< messages queued for Foxglove clients */
    uint64_t foxglove_bad_requests; /**< answered with an error status */
    uint64_t published;             /**< scn_live_publish calls accepted */
    scn_server_stats server;        /**< the port: limits, access, HTTP, TLS */
} scn_live_stats;

/** What scn_live_options_init() calls, with the caller's
 * sizeof(scn_live_options) (scentience/options.h). */
SCN_API void scn_live_options_init_sized(scn_live_options *opts, size_t size);

/** Fills opts with every default. */
static inline void scn_live_options_init(scn_live_options *opts)
{
    scn_live_options_init_sized(opts, sizeof(*opts));
}

/** Whether token is a well-formed dashboard token (16-128 characters of
 * A-Z a-z 0-9 . _ ~ -: safe in a URL, a cookie and a header). */
SCN_API int scn_live_token_ok(const char *token);

/** Starts listening. Returns 0, SCN_ERR_INVALID_ARG, SCN_ERR_STATE,
 * SCN_ERR_NOMEM, SCN_ERR_TLS or the socket errors of scn_server_new()
 * (SCN_ERR_ADDRESS_IN_USE...). */
SCN_API int scn_live_new(scn_loop *loop, const scn_live_options *opts,
                         scn_live **out);
/** Closes every connection (1001) and frees. NULL is allowed. What is
 * still queued is dropped: call scn_live_close_all() and let the loop run
 * first for a clean end. */
SCN_API void scn_live_free(scn_live *live);
/** Closes every connection with 1001 once what is queued for it (an
 * unadvertise, the last messages) has been written. Returns the number
 * of connections still open before it. */
SCN_API int scn_live_close_all(scn_live *live);
/** The port it listens on (the one the kernel chose for port 0). */
SCN_API int scn_live_port(const scn_live *live);

/**
 * Adds a channel for Foxglove: topic ("/olfaction"), schema name and JSON
 * Schema text (recorder.h has the recorder's). It is advertised to every
 * Foxglove client now and to each one that connects later. *id (> 0)
 * names it in scn_live_publish(). Returns 0, SCN_ERR_INVALID_ARG,
 * SCN_ERR_STATE (the topic exists), SCN_ERR_NOMEM.
 */
SCN_API int scn_live_channel_add(scn_live *live, const char *topic,
                                 const char *schema_name,
                                 const char *schema_json, uint32_t *id);
/** Removes a channel: unadvertised, its subscriptions end. Returns 0 or
 * SCN_ERR_NOT_FOUND. */
SCN_API int scn_live_channel_remove(scn_live *live, uint32_t id);

/**
 * Publishes one JSON value on Foxglove channel (0: none), stamped with
 * time_ns (the receive time, ns since the epoch), and on the /live stream
 * (NULL: none). json is checked once. Thread-safe, never waits. Returns
 * the number of subscribers it was queued for, SCN_ERR_INVALID_ARG,
 * SCN_ERR_NOT_FOUND (no such channel), SCN_ERR_MALFORMED (not JSON),
 * SCN_ERR_MESSAGE_TOO_BIG, SCN_ERR_NOMEM.
 */
SCN_API int scn_live_publish(scn_live *live, uint32_t channel,
                             const char *stream, uint64_t time_ns,
                             const char *json, size_t len);

/**
 * scn_live_publish() of a parsed frame (scn_frame_parse(), a session's
 * on_frame): its canonical JSON (scn_frame_to_json()) is written once for
 * every subscriber and not checked again, as the parse already held it to
 * strict JSON. Returns as scn_live_publish(); SCN_ERR_INVALID_ARG for a
 * NULL frame.
 */
SCN_API int scn_live_publish_frame(scn_live *live, uint32_t channel,
                                   const char *stream, uint64_t time_ns,
                                   const scn_frame *frame);

/**
 * scn_live_publish() of text the caller vouches for: json[0..len) must be
 * one strict JSON value that the caller wrote with a writer that makes
 * nothing else (scn_uav_state_to_json(), scn_frame_to_json(), pieces of
 * scn_json_write_string() and scn_json_write_number() between literal
 * punctuation) or already checked. It is published as is and not checked
 * again, which spares a pass over every byte of each message at the rate
 * it is made; anything else reaches Foxglove and /live subscribers as
 * given and may break their parsers: text from a peer or a user goes
 * through scn_live_publish(). Returns as scn_live_publish(), never
 * SCN_ERR_MALFORMED.
 */
SCN_API int scn_live_publish_checked(scn_live *live, uint32_t channel,
                                     const char *stream, uint64_t time_ns,
                                     const char *json, size_t len);

/** Copies the counters into out. Thread-safe. */
SCN_API void scn_live_get_stats(scn_live *live, scn_live_stats *out);

#ifdef __cplusplus
}
#endif

#endif
