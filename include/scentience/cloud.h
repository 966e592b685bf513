/**
 * @file
 *
 * The cloud inference stream (docs/PROTOCOL.md section 9,
 * scentience.cloud.v1): fused records go to an on-disk spool first and are
 * sent from it, so a link outage or a process restart loses nothing that
 * was submitted, up to the spool's size cap or the room on its disk:
 * then the oldest unacknowledged records are dropped, counted in the
 * stats and reported to on_spool_drop, never silently.
 *
 * - The spool's stream id travels as the URL query stream=ID (sessions
 *   carry no custom headers; section 9.1 accepts the query).
 * - After every (re)connect the client waits for hello, applies its acked,
 *   then resends from the oldest unacknowledged record, in seq order, at
 *   most window records beyond the last ack; more go as acks arrive.
 * - Records use the session's control lane: the telemetry lane drops its
 *   oldest message when full, which would put a hole below a later ack and
 *   lose that record for good.
 * Not thread-safe: call everything on the loop's thread (or while the loop
 * is not running). Callbacks run on the loop's thread; pointers they get
 * are valid only during the call.
 */
#ifndef SCENTIENCE_CLOUD_H
#define SCENTIENCE_CLOUD_H

#include <stddef.h>
#include <stdint.h>
#include <scentience/options.h>
#include <scentience/common.h>
#include <scentience/loop.h>
#include <scentience/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The cloud inference stream endpoint scn_cloud connects to by default. */
#define SCN_CLOUD_DEFAULT_URL "wss://api.scentience.ai/v1/stream"

/** A cloud session: fused records spooled on disk and sent within a window,
 * inference pushed back (opaque). */
typedef struct scn_cloud scn_cloud;

/** One label of an inference with its score. */
typedef struct scn_cloud_result_label {
    const char *label; /**< the label, e.g. an odor class */
    double score;      /**< [0, 1] */
} scn_cloud_result_label;

/** An inference, typed (section 9.2). */
typedef struct scn_cloud_result {
    const char *model;                    /**< the model that answered */
    uint64_t seq;                         /**< the record it answers */
    size_t label_count;                   /**< entries in labels */
    const scn_cloud_result_label *labels; /**< decreasing score */
    int has_target; /**< nonzero: the inference names a compound to follow */
    const char *compound; /**< "" without target */
    int has_bearing;      /**< nonzero: bearing_deg is set */
    double bearing_deg;   /**< [0, 360), clockwise from the drone's heading */
} scn_cloud_result;

/** Records dropped from the spool before the cloud acknowledged them, the
 * oldest first: every record held with first_seq <= seq <= last_seq
 * (count of them; a seq in between that was no record is a gap). */
typedef struct scn_cloud_spool_drop {
    uint64_t first_seq; /**< the oldest seq dropped */
    uint64_t last_seq;  /**< the newest seq dropped */
    uint64_t count;     /**< records dropped */
    /** How many of them, the oldest, this scn_cloud had already written
     * to a connection: those may have reached the cloud (their ack had
     * not come back). The other count - sent never left this process. */
    uint64_t sent;
    int disk_full; /**< 1: no room on the disk; 0: spool_cap_bytes */
} scn_cloud_spool_drop;

/** Counters of a cloud session (scn_cloud_get_stats()). */
typedef struct scn_cloud_stats {
    uint64_t submitted;        /**< records accepted by scn_cloud_submit() */
    uint64_t sent;             /**< records written for the first time */
    uint64_t resent;           /**< records written again after a reconnect */
    uint64_t acked;            /**< the cloud's cumulative ack (a seq) */
    uint64_t inflight;         /**< sent on this connection, not yet acked */
    uint64_t spooled;          /**< unacknowledged records in the spool */
    uint64_t dropped_full;     /**< unacked records lost to the spool cap */
    uint64_t inferences;       /**< inference messages received */
    uint64_t inferences_asked; /**< asked for again: acked, answer lost */
    uint64_t inferences_lost;  /**< the cloud no longer had them ("gone"), or
                                  too many were owed to keep track */
    uint64_t errors;           /**< error messages from the cloud */
    uint64_t hellos;   /**< hello messages received (one per connection) */
    uint64_t recycled; /**< sessions replaced: records left queued at a drop */
    uint64_t unsendable;    /**< spooled records over the send lane, skipped */
    uint64_t flushes;       /**< spool syncs and ack saves (sync_interval_ms) */
    uint64_t dropped_disk;  /**< unacked records lost to a full disk */
    uint64_t refused_full;  /**< submits refused: no room on the disk at all */
    uint64_t spool_refused; /**< spool files and values refused at open */
} scn_cloud_stats;

/** Options of scn_cloud_new(); initialise with scn_cloud_options_init(). */
typedef struct scn_cloud_options {
    size_t struct_size; /**< set by _options_init() (options.h) */
    /** The session's options (from scn_session_options_init()), read by
     * scn_cloud_new() only; NULL: every default. A pointer, so that either
     * struct can grow (scentience/options.h). url NULL:
     * SCN_CLOUD_DEFAULT_URL. Key, backoff, TLS... as for a session. Its
     * callbacks, raw_text and stream_rate_hz are the cloud's own;
     * subprotocol NULL: scentience.cloud.v1. */
    const scn_session_options *session;
    const char *spool_dir; /**< required; one process per spool */
    /** Default 64 MiB, at least 1 KiB. The disk may hold less: segments
     * are then sized to the room it leaves, and the oldest records go
     * when it is full (on_spool_drop with disk_full). */
    uint64_t spool_cap_bytes;
    uint32_t window; /**< records in flight beyond the ack (default 128,
                        at most 1024 and below the control lane) */
    /** How often at most the spool is forced to stable storage (fdatasync)
     * and the acked position saved (a meta file rewrite with fsync): every
     * submit is written to the spool file at once, so a killed process
     * loses nothing; these only bound what a power cut or kernel crash can
     * lose. Default 1000 ms (scn_cloud_options_init); 0: every loop turn. */
    uint32_t sync_interval_ms;
    /** Called for every inference pushed by the cloud. */
    void (*on_inference)(scn_cloud *c, const scn_cloud_result *r, void *user);
    /** Called on every state change of the underlying session. */
    void (*on_state)(scn_cloud *c, const scn_state_event *ev, void *user);
    /** Error messages from the cloud (err from the code: MALFORMED,
     * QUOTA...), spool failures (SPOOL_FULL: the ack could not be saved
     * yet; tried again at the next flush), files or values the spool
     * refused at open (SPOOL_INVALID, reported at the first loop turn),
     * messages that cannot be decoded. detail is safe to print: the
     * cloud's own words in it are escaped (scn_escape_text). */
    void (*on_error)(scn_cloud *c, int err, const char *detail, void *user);
    /** Unacknowledged records dropped from the spool (see
     * scn_cloud_spool_drop), after the submit that dropped them; NULL:
     * counted only. Their seqs never reach the cloud. */
    void (*on_spool_drop)(scn_cloud *c, const scn_cloud_spool_drop *d,
                          void *user);
    void *user; /**< passed to every callback */
} scn_cloud_options;

/** What scn_cloud_options_init() calls, with the caller's
 * sizeof(scn_cloud_options) (scentience/options.h). */
SCN_API void scn_cloud_options_init_sized(scn_cloud_options *opts, size_t size);

/** Fills opts with every default (session NULL). */
static inline void scn_cloud_options_init(scn_cloud_options *opts)
{
    scn_cloud_options_init_sized(opts, sizeof(*opts));
}

/** Opens the spool and starts connecting. Returns 0, SCN_ERR_INVALID_ARG,
 * SCN_ERR_SPOOL_BUSY, a system error of the spool directory
 * (scn_err_from_errno(): PERMISSION, NO_SUCH_FILE, ... or IO), SCN_ERR_NOMEM
 * or the errors of scn_session_new(). */
SCN_API int scn_cloud_new(scn_loop *loop, const scn_cloud_options *opts,
                          scn_cloud **out);

/** Closes the link, syncs and closes the spool (unacked records stay for
 * the next scn_cloud_new on the same directory), frees. NULL allowed. Not
 * from inside the cloud's callbacks. */
SCN_API void scn_cloud_free(scn_cloud *c);

/**
 * Spools one fused record (frame_json: a device frame object; state_json:
 * NULL or a drone state object of number and string members, any names:
 * it travels as the record's "state" as is, state_age_ms beside it) and
 * sends it when the link is open and the window allows. *seq (may be
 * NULL) gets its seq. Older records may be dropped to make room
 * (on_spool_drop) before this one is refused.
 * Returns 0 or the errors of the record encoder (MALFORMED, WRONG_TYPE,
 * OUT_OF_RANGE, TOO_DEEP: scn_cloud_submit_detail() says which part and
 * member is at fault) and of the spool
 * (MESSAGE_TOO_BIG, SPOOL_FULL: no room on the disk even with nothing
 * else held; OUT_OF_RANGE: the stream's seqs are exhausted; IO);
 * MESSAGE_TOO_BIG as well for a record larger than the session's control
 * lane (control_queue_bytes), which could never be sent.
 */
SCN_API int scn_cloud_submit(scn_cloud *c, const char *frame_json, size_t len,
                             const char *state_json, int64_t state_age_ms,
                             uint64_t *seq);

/**
 * scn_cloud_submit() of a parsed frame (scn_frame_parse(), a session's
 * on_frame): the record carries the frame's canonical JSON
 * (scn_frame_to_json()), written straight from the frame and not parsed
 * again, as a device session already held it to the frame rules. Only
 * nested objects and arrays are checked (unique member names). Returns
 * as scn_cloud_submit(); SCN_ERR_INVALID_ARG for a NULL frame.
 */
SCN_API int scn_cloud_submit_frame(scn_cloud *c, const scn_frame *frame,
                                   const char *state_json, int64_t state_age_ms,
                                   uint64_t *seq);

/**
 * scn_cloud_submit_frame() with a drone state the caller has already held
 * to the state rules, state_json[0..state_len) (NULL and 0: none): one
 * JSON object whose members are strings and finite numbers under unique
 * names, in UTF-8, as scn_uav_state_to_json() writes every state it
 * accepts. It goes into the record as is and is not checked again, which
 * spares a pass over the state for every frame it is fused with; a state
 * that breaks the rules would reach the spool and the cloud as given:
 * state text from a peer or a user goes through scn_cloud_submit_frame().
 * Returns as scn_cloud_submit_frame(); SCN_ERR_INVALID_ARG for a NULL
 * state_json with a non-zero state_len.
 */
SCN_API int scn_cloud_submit_frame_checked(scn_cloud *c, const scn_frame *frame,
                                           const char *state_json,
                                           size_t state_len,
                                           int64_t state_age_ms, uint64_t *seq);

/** Why the last scn_cloud_submit() failed, in words that name the part
 * and the member at fault ("drone state: member \"gps\" is not a number
 * or a string"), or the spool's reason; "" after a success. Valid until
 * the next submit. Names from the frame or state are shown as printable
 * ASCII only. */
SCN_API const char *scn_cloud_submit_detail(const scn_cloud *c);

/** Copies the counters into *out. */
SCN_API void scn_cloud_get_stats(const scn_cloud *c, scn_cloud_stats *out);
/** The spool's stream id (32 hex digits). */
SCN_API const char *scn_cloud_stream_id(const scn_cloud *c);
/** The current session (statistics, state); NULL while a session left with
 * records queued at a link drop is being replaced (see lib/cloud/cloud.c). It
 * changes then: do not keep it. */
SCN_API scn_session *scn_cloud_session(scn_cloud *c);

/* ---- One-shot prediction: POST /v1/predict (section 9.6) ---- */

/** The endpoint scn_cloud_predict() posts to by default. */
#define SCN_CLOUD_PREDICT_URL "https://api.scentience.ai/v1/predict"

/** Options of scn_cloud_predict(); initialise with
 * scn_cloud_predict_options_init(). */
typedef struct scn_cloud_predict_options {
    size_t struct_size; /**< set by _options_init() (options.h) */
    /** Where to post: http://, https://, or a stream URL (ws://, wss://);
     * NULL: SCN_CLOUD_PREDICT_URL. Mapped as scn_cloud_predict_url() says. */
    const char *url;
    /** Key as for a session: option, $SCENTIENCE_API_KEY, key_file (NULL:
     * the default file). no_key: no Authorization (test servers). */
    const char *api_key;
    const char *key_file; /**< key file; NULL: the default file */
    int no_key;           /**< nonzero: send no Authorization header */
    const char *ca_file;  /**< PEM CA file trusted in addition to the system
                             store; NULL: none */
    int insecure; /**< nonzero: skip certificate verification (test servers
                     only) */
    uint32_t timeout_ms; /**< whole exchange (0: 10000) */
    /** lws logging is process-wide; like scn_loop_options, it is silenced
     * unless this is set (then errors and warnings only). */
    int lws_errors_to_stderr;
} scn_cloud_predict_options;

/** What scn_cloud_predict_options_init() calls, with the caller's
 * sizeof(scn_cloud_predict_options) (scentience/options.h). */
SCN_API void
scn_cloud_predict_options_init_sized(scn_cloud_predict_options *opts,
                                     size_t size);

/** Fills opts with every default (timeout 10000 ms). */
static inline void
scn_cloud_predict_options_init(scn_cloud_predict_options *opts)
{
    scn_cloud_predict_options_init_sized(opts, sizeof(*opts));
}

/** The answer, copied (fixed sizes: the codec's bounds). */
typedef struct scn_cloud_prediction {
    int http_status;    /**< 0 when no answer came */
    char model[64];     /**< the model that answered */
    size_t label_count; /**< entries used in labels */
    struct {
        char label[64]; /**< the label */
        double score;   /**< its score in [0, 1] */
    } labels[16];       /**< labels by decreasing score */
    int has_target;     /**< nonzero: compound is set */
    char compound[16];  /**< the compound named as target, "" without one */
    int has_bearing;    /**< nonzero: bearing_deg is set */
    double bearing_deg; /**< bearing to the source in [0, 360), clockwise from
                           the heading */
    /* Non-200 answers with an error object: */
    char error_code[32];     /**< the error object's code */
    char error_message[256]; /**< its human-readable message */
    uint32_t retry_after_ms; /**< 429: retry_after member */
} scn_cloud_prediction;

/**
 * The endpoint a predict URL stands for (docs/PROTOCOL.md 9.6), written
 * into out (cap bytes, NUL included): NULL gives SCN_CLOUD_PREDICT_URL; a
 * stream URL (ws://, wss://) gives http:// or https:// with its host and
 * port and the path /v1/predict; an http(s) URL without a path, or with
 * "/", gets /v1/predict; one whose path ends in '/' is a base and gets
 * "v1/predict" appended; any other http(s) URL is the endpoint itself.
 * Returns 0, SCN_ERR_URL (another scheme, no host, a bad port...) or
 * SCN_ERR_INVALID_ARG (out too small).
 */
SCN_API int scn_cloud_predict_url(const char *url, char *out, size_t cap);

/**
 * Blocking: runs its own lws context on the calling thread until the
 * answer, an error or the timeout (so it may be called from any thread,
 * but not from inside a loop callback, which it would stall). Not retried.
 * Returns 0 (200 with an inference, *out filled); SCN_ERR_MALFORMED (400,
 * or a 200 body that is not an inference); SCN_ERR_KEY_INVALID,
 * KEY_EXPIRED, KEY_REVOKED (401); ADDRESS_NOT_ALLOWED (403);
 * MESSAGE_TOO_BIG (413); QUOTA (429); SERVER (5xx, other statuses);
 * NETWORK (unreachable); RESOLVE (the host name did not resolve);
 * TIMEOUT (also while resolving); the key errors of scn_session_new();
 * URL; INVALID_ARG; OPTIONS_SIZE; NOMEM. out->http_status tells the status
 * whenever one came.
 */
SCN_API int scn_cloud_predict(const scn_cloud_predict_options *opts,
                              const char *frame_json, size_t len,
                              scn_cloud_prediction *out);

#ifdef __cplusplus
}
#endif

#endif
