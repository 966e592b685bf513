/**
 * @file
 *
 * A session: one persistent, authenticated WebSocket connection to an
 * olfaction device (or any server speaking docs/PROTOCOL.md), kept up across
 * link loss.
 *
 * Callback contract:
 * - Callbacks run on the loop's thread. Pointers they receive are valid only
 *   during the call; copy what you keep.
 * - scn_session_free() called inside one of the session's callbacks is
 *   deferred until the callback returns; it is safe.
 * - A failed call never fires a callback for that call.
 * - Every message accepted by a send call is either written or counted as
 *   dropped in the statistics (telemetry lane drop-oldest, or discarded at
 *   scn_session_free); nothing disappears uncounted.
 */
#ifndef SCENTIENCE_SESSION_H
#define SCENTIENCE_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <scentience/options.h>
#include <scentience/common.h>
#include <scentience/frame.h>
#include <scentience/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The host a session URL names (the rules of scn_session_options.url:
 * ws:// or wss://), without an IPv6 address's brackets: what a server's
 * allow list needs to admit the peer the URL points at. At most 255 bytes.
 *
 * @return 0; SCN_ERR_URL when url is not a valid session URL;
 *         SCN_ERR_INVALID_ARG when an argument is NULL or the host does not
 *         fit in cap bytes (out is then "").
 */
SCN_API int scn_url_host(const char *url, char *out, size_t cap);

/** A persistent, authenticated session to a device, kept up across link loss
 * (opaque). */
typedef struct scn_session scn_session;

/** Connection states; see docs/ARCHITECTURE.md for the diagram. */
typedef enum scn_state {
    SCN_STATE_IDLE = 0,     /**< created, not started */
    SCN_STATE_CONNECTING,   /**< TCP/TLS/WebSocket handshake under way */
    SCN_STATE_OPEN,         /**< handshake done, traffic flows */
    SCN_STATE_RECONNECTING, /**< link lost; next attempt after delay_ms */
    SCN_STATE_CLOSING,      /**< scn_session_close() called, closing */
    SCN_STATE_CLOSED,       /**< closed by the user, or by the server at the
                               end of its stream (reason
                               SCN_ERR_END_OF_STREAM, close 4010); terminal */
    SCN_STATE_FAILED        /**< fatal error (reason); terminal */
} scn_state;

/** The state's name ("OPEN"); "UNKNOWN" out of range. */
SCN_API const char *scn_state_name(scn_state state);

/** A state change, as on_state reports it. */
typedef struct scn_state_event {
    scn_state state;    /**< the new state */
    scn_state previous; /**< the state before */
    int reason;         /**< SCN_ERR_* that caused the change, 0 if none */
    uint32_t delay_ms;  /**< RECONNECTING: wait before the next attempt */
    uint32_t attempt;   /**< consecutive failed attempts so far */
    int http_status;    /**< handshake status when the cause was one, else 0 */
    int close_code;     /**< WebSocket close code when the cause was one */
    /** FAILED with reason SCN_ERR_ATTEMPTS_EXHAUSTED: why the last attempt
     * failed (SCN_ERR_*, e.g. SCN_ERR_TIMEOUT, SCN_ERR_RESOLVE); else 0. */
    int last_error;
} scn_state_event;

/** Outbound lanes. Control messages are never dropped: a full control lane
 * makes the send fail with SCN_ERR_QUEUE_FULL. Telemetry drops its oldest
 * message when full, counted in scn_session_stats.dropped_telemetry. */
typedef enum scn_lane { SCN_LANE_CONTROL = 0, SCN_LANE_TELEMETRY = 1 } scn_lane;

/** Frames stopped on one connection and resumed on a later one. SEQ
 * restarts with every connection (docs/PROTOCOL.md 3.1), so what the
 * device sent in between is not in seq_gaps: this is how the hole shows. */
typedef struct scn_discontinuity {
    uint32_t gap_ms;     /**< from the last frame before to the first after,
                            on this process's clock (as delivered) */
    uint32_t reconnects; /**< connections opened in between (1 or more) */
    uint64_t last_seq;   /**< SEQ of the last frame before; 0: it had none */
    uint64_t first_seq;  /**< SEQ of the first frame after; 0: none */
    int64_t last_ns;     /**< TIMESTAMP of the last frame before (device) */
    int64_t first_ns;    /**< TIMESTAMP of the first frame after */
} scn_discontinuity;

/** What a session tells the application; every callback may be NULL. */
typedef struct scn_session_callbacks {
    /** Every state change, with its reason (see scn_state_event). */
    void (*on_state)(scn_session *s, const scn_state_event *ev, void *user);
    /** A device frame, parsed. */
    void (*on_frame)(scn_session *s, const scn_frame *frame, void *user);
    /** The first frame after a reconnect follows frames of an earlier
     * connection: what is known of the hole. Called just before on_frame
     * for that frame. */
    void (*on_discontinuity)(scn_session *s, const scn_discontinuity *d,
                             void *user);
    /** A typed message (an object with a string "type": "hello", "error",
     * or types this version does not know), as received. */
    void (*on_message)(scn_session *s, const char *type, const char *json,
                       size_t len, void *user);
    /** A non-fatal problem: malformed input, dropped messages, protocol
     * oddities. The session stays up. detail never holds the key. */
    void (*on_error)(scn_session *s, int err, const char *detail, void *user);
    /** raw_text sessions only: every text message as received, unparsed
     * (the UAV dialect's answers are plain text). */
    void (*on_text)(scn_session *s, const char *data, size_t len, void *user);
    /** The outbound queue crossed its high (above=1) or low (above=0)
     * watermark: the producer should slow down or may resume. */
    void (*on_watermark)(scn_session *s, int above, void *user);
    /** A message sent with scn_session_send_tracked() was handed to the
     * socket: from now on the peer may receive it, even if the connection
     * then fails. Messages never reported here were never written. */
    void (*on_written)(scn_session *s, uint64_t ticket, void *user);
} scn_session_callbacks;

/** Reconnection schedule: exponential ceiling with full jitter
 * (docs/PROTOCOL.md). */
typedef struct scn_backoff_policy {
    uint32_t initial_ms;   /**< ceiling of the first delay (default 500) */
    uint32_t max_ms;       /**< ceiling never exceeds this (default 30000) */
    double factor;         /**< ceiling growth per attempt (default 2.0) */
    uint32_t max_attempts; /**< consecutive failures before FAILED; 0: never */
    uint32_t healthy_ms;   /**< open this long resets the schedule (10000) */
} scn_backoff_policy;

/** Options of scn_session_new(); initialise with scn_session_options_init(). */
typedef struct scn_session_options {
    size_t struct_size; /**< set by _options_init() (options.h) */
    const char *url;    /**< ws:// or wss://; required */
    /** The API key. NULL: $SCENTIENCE_API_KEY, then key_file. Copied into
     * memory excluded from core dumps and wiped at free. */
    const char *api_key;
    /** Key file; NULL: $XDG_CONFIG_HOME/scentience/api-key (or
     * ~/.config/...). Refused when group or others can read it. Read again
     * at every connection attempt, so a rotated key is picked up. */
    const char *key_file;
    int no_key; /**< connect without Authorization (test servers) */
    /** Subprotocol offered in the handshake; NULL: "scentience.v1". */
    const char *subprotocol;
    /** Deliver text messages unparsed to on_text instead of parsing them
     * as device frames and typed messages. */
    int raw_text;
    const char *device_uid; /**< select a device by UID; NULL: the default */
    /** After every (re)connect, ask the device to stream at this rate (Hz);
     * 0 leaves the device's default. */
    double stream_rate_hz;

    scn_backoff_policy backoff;  /**< reconnection delays */
    uint32_t ping_interval_ms;   /**< ping when idle this long (default 5000) */
    uint32_t idle_timeout_ms;    /**< no traffic this long: dead (15000) */
    uint32_t connect_timeout_ms; /**< TCP, TLS and WebSocket handshake must
                                    finish in (10000; at most 60000) */

    size_t max_message_bytes;     /**< inbound limit, close 1009 (1 MiB) */
    size_t control_queue_msgs;    /**< outbound control lane (256) */
    size_t control_queue_bytes;   /**< (1 MiB) */
    size_t telemetry_queue_msgs;  /**< outbound telemetry lane (1024) */
    size_t telemetry_queue_bytes; /**< (4 MiB) */
    size_t queue_high_water;      /**< outbound bytes: on_watermark(1) (75%) */
    size_t queue_low_water;       /**< outbound bytes: on_watermark(0) (25%) */
    size_t inbound_queue_msgs;    /**< inbound messages held before rx pauses */
    size_t inbound_queue_bytes;   /**< (256 messages, 2 MiB) */
    /** Inbound delivery: 0 (default) dispatches callbacks on the loop thread
     * as messages arrive; 1 keeps them queued until the application calls
     * scn_session_dispatch(), from any thread. */
    int manual_dispatch;
    /** Messages still queued when a connection ends are discarded (counted
     * in dropped_unsent) instead of being written on the next connection:
     * for commands that must not outlive the link they were meant for
     * (the UAV channel sets it). 0: they wait for the next connection. */
    int discard_unsent_on_link_loss;

    /** TLS (wss://). Verification is on unless insecure is set, which is
     * logged as a warning at every connection. */
    const char *ca_file;
    const char *client_cert_file; /**< PEM client certificate chain, for servers
                                     that require one; NULL: none */
    const char *client_key_file;  /**< its PEM private key */
    int insecure; /**< nonzero: skip certificate verification (test servers
                     only) */

    uint64_t random_seed; /**< jitter source; 0: seeded from the OS */

    scn_session_callbacks callbacks; /**< the callbacks */
    void *user;                      /**< passed to every callback */
} scn_session_options;

/** Counters of a session (scn_session_get_stats()). */
typedef struct scn_session_stats {
    uint64_t frames_in;         /**< device frames delivered */
    uint64_t messages_in;       /**< all messages received */
    uint64_t bytes_in;          /**< payload bytes received */
    uint64_t messages_out;      /**< messages written to the socket */
    uint64_t bytes_out;         /**< payload bytes written */
    uint64_t malformed_in;      /**< messages that failed to parse */
    uint64_t unknown_type_in;   /**< typed messages of unknown type, ignored */
    uint64_t seq_gaps;          /**< missing SEQ numbers within connections */
    uint64_t discontinuities;   /**< frames resumed on a later connection */
    uint64_t discontinuity_ms;  /**< time without frames across them */
    uint64_t dropped_telemetry; /**< oldest telemetry dropped: queue full */
    uint64_t dropped_unsent;    /**< queued messages discarded: at free, or
                                   at link loss (discard_unsent_...) */
    uint64_t rejected_control;  /**< control sends refused: queue full */
    uint64_t oversize_in;       /**< inbound messages over the limit */
    uint64_t rx_pauses;         /**< times reading paused: inbound queue full */
    uint64_t dropped_inbound;  /**< inbound over the hard cap (should stay 0) */
    uint64_t reconnects;       /**< successful opens after the first */
    uint64_t links_aborted;    /**< connections the client reset (dead peer,
                                  handshake timeout, link lost): nothing
                                  queued on them can arrive later */
    uint64_t connect_attempts; /**< connection attempts, the first included */
    uint32_t current_backoff_ms; /**< delay before the next attempt while
                                    reconnecting */
    uint32_t last_rtt_ms;        /**< last ping round trip; 0 if none yet */
    size_t queued_msgs;          /**< outbound, both lanes */
    size_t queued_bytes;         /**< outbound bytes queued, both lanes */
    size_t
        inbound_queued_msgs; /**< inbound messages waiting (manual dispatch) */
} scn_session_stats;

/** What scn_session_options_init() calls, with the caller's
 * sizeof(scn_session_options) (scentience/options.h). */
SCN_API void scn_session_options_init_sized(scn_session_options *opts,
                                            size_t size);

/** Fills opts with every default (zeros for pointers). */
static inline void scn_session_options_init(scn_session_options *opts)
{
    scn_session_options_init_sized(opts, sizeof(*opts));
}

/**
 * For code that builds a session from options it was given (scn_cloud,
 * scn_uav_channel): copies @p src, whatever header version it was built
 * with, into @p dst, a whole struct of this library's version (fields src
 * lacks get their defaults; dst's struct_size is this library's). NULL
 * src: every default. Returns 0, SCN_ERR_INVALID_ARG (dst NULL) or
 * SCN_ERR_OPTIONS_SIZE (src not from scn_session_options_init()).
 */
SCN_API int scn_session_options_copy(scn_session_options *dst,
                                     const scn_session_options *src);

/**
 * Creates a session on the loop and starts connecting. Everything opts
 * points to is copied. The key is resolved now (option, environment, file)
 * so that a missing or unreadable key fails here, before any connection.
 * Returns 0, SCN_ERR_INVALID_ARG, SCN_ERR_OPTIONS_SIZE, SCN_ERR_URL,
 * SCN_ERR_NOMEM, SCN_ERR_NO_KEY, SCN_ERR_KEY_FILE, SCN_ERR_KEY_FILE_PERMS,
 * SCN_ERR_KEY_FORMAT.
 * Must be called on the loop's thread or while the loop is not running.
 */
SCN_API int scn_session_new(scn_loop *loop, const scn_session_options *opts,
                            scn_session **out);

/** Closes the connection (no callback after return, except when called
 * inside a callback of this session, where it is deferred) and frees the
 * session. Queued messages are discarded and counted. NULL is allowed.
 * Must be called on the loop's thread or while the loop is not running. */
SCN_API void scn_session_free(scn_session *s);

/** Starts a graceful close: state CLOSING then CLOSED. Returns 0 or
 * SCN_ERR_STATE. Thread-safe. */
SCN_API int scn_session_close(scn_session *s);

/** Queues a text message on a lane. Copies data. Thread-safe.
 * Returns 0, SCN_ERR_INVALID_ARG, SCN_ERR_QUEUE_FULL (control lane full),
 * SCN_ERR_MESSAGE_TOO_BIG (larger than the lane), SCN_ERR_STATE (closed or
 * failed), SCN_ERR_NOMEM. */
SCN_API int scn_session_send(scn_session *s, scn_lane lane, const char *data,
                             size_t len);

/** Queues a control message ahead of everything already queued, for
 * commands that must overtake (a drone's emergency stop). Thread-safe.
 * Returns as scn_session_send(). */
SCN_API int scn_session_send_urgent(scn_session *s, const char *data,
                                    size_t len);

/** Queues a control message (urgent: ahead of everything, as
 * scn_session_send_urgent()) and numbers it: *ticket receives a number,
 * never 0, that on_written reports once the message has been written to
 * the socket. Thread-safe. Returns as scn_session_send(). */
SCN_API int scn_session_send_tracked(scn_session *s, int urgent,
                                     const char *data, size_t len,
                                     uint64_t *ticket);

/** Requests: one reading; stream on at rate_hz (0: device default) or off.
 * The stream setting is remembered and restored after every reconnect.
 * Thread-safe. Returns as scn_session_send(). */
SCN_API int scn_session_request_sample(scn_session *s);
/** Asks the device to stream at rate_hz (0: its default) when on is nonzero, to
 * stop otherwise; see scn_session_request_sample(). */
SCN_API int scn_session_request_stream(scn_session *s, int on, double rate_hz);

/** Manual dispatch mode: delivers up to max queued inbound messages to the
 * callbacks on the calling thread. Returns the number delivered (>= 0) or
 * SCN_ERR_STATE when the session is not in manual mode. Thread-safe with
 * respect to the loop, not to itself. */
SCN_API int scn_session_dispatch(scn_session *s, size_t max);

/** The current state. */
SCN_API scn_state scn_session_state(const scn_session *s);
/** Thread-safe snapshot of the counters. */
SCN_API void scn_session_get_stats(scn_session *s, scn_session_stats *out);
/** The key in use as "****" plus its last four characters. */
SCN_API const char *scn_session_key_redacted(const scn_session *s);
/** The subprotocol the server selected, "" when it selected none. */
SCN_API const char *scn_session_subprotocol(const scn_session *s);

#ifdef __cplusplus
}
#endif

#endif
