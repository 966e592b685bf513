/**
 * @file
 *
 * The fleet model of a ground station: what the drones publishing under
 * scentience/v1/DRONE-ID/ (docs/PROTOCOL.md 12, fleet over MQTT) last
 * said, in plain C (no socket, no clock: the caller passes the time and
 * the messages its MQTT client received).
 *
 * - A message is one MQTT publish: topic scentience/v1/ID/STREAM
 *   (stream: olfaction, state, inference, events, command, status) and
 *   the envelope {"run":"...","seq":N,"ts":NS,"data":{...}}, data being
 *   the document the companion recorded (docs/PROTOCOL.md 12.2).
 * - Duplicates are dropped by (run, stream, seq) per drone (a QoS 1
 *   message is sent again after a reconnect, or after a companion restart
 *   from its spool): a window of the last 1024 seqs of each of the
 *   drone's three newest runs remembers which were seen. A seq beyond the
 *   next one counts the missing ones as gaps; one of them arriving late
 *   fills its gap again. Within a run, a seq a whole window below the
 *   newest starts the stream over (counted as a restart).
 * - status (retained: a birth with data.online true, a will with
 *   data.online false and seq 0) sets the drone online or offline. A will
 *   is never taken for a duplicate (the broker may publish the same one
 *   again after each connection of the companion).
 * - Bad input (a topic outside the tree, a drone id that is not 1-63 of
 *   [A-Za-z0-9_-], an unknown stream, a payload that is not an envelope,
 *   one drone more than max_drones) is refused with an error and counted;
 *   the model is unchanged.
 *
 * Not thread-safe: use it from one thread, or lock around it.
 */
#ifndef SCENTIENCE_FLEET_H
#define SCENTIENCE_FLEET_H

#include <stddef.h>
#include <stdint.h>
#include <scentience/common.h>
#include <scentience/options.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A fleet model (opaque). */
typedef struct scn_fleet scn_fleet;

/** The topic prefix of the fleet tree. */
#define SCN_FLEET_TOPIC_PREFIX "scentience/v1/"
/** The longest drone id, in bytes (without the NUL). */
#define SCN_FLEET_ID_MAX 63
/** How many seqs back a duplicate is recognised (per drone and stream). */
#define SCN_FLEET_SEQ_WINDOW 1024

/** A drone's streams, one MQTT topic each (the last topic level). */
typedef enum scn_fleet_stream {
    SCN_FLEET_OLFACTION = 0, /**< "olfaction": device frames */
    SCN_FLEET_STATE,         /**< "state": drone state, parsed */
    SCN_FLEET_INFERENCE,     /**< "inference": cloud inference results */
    SCN_FLEET_EVENTS,        /**< "events": connection and app events */
    SCN_FLEET_COMMAND,       /**< "command": commands sent to the drone */
    SCN_FLEET_STATUS,        /**< "status": retained birth / will */
    SCN_FLEET_STREAM_COUNT   /**< number of streams */
} scn_fleet_stream;

/** The topic level of a stream ("olfaction"); NULL when out of range. */
SCN_API const char *scn_fleet_stream_name(scn_fleet_stream stream);

/** What scn_fleet_ingest() made of a message it accepted. */
typedef enum scn_fleet_verdict {
    SCN_FLEET_NEW = 0,      /**< new: record it, show it */
    SCN_FLEET_DUPLICATE = 1 /**< seen before (same seq): dropped */
} scn_fleet_verdict;

/** The longest run id kept, in bytes (without the NUL). */
#define SCN_FLEET_RUN_MAX 32

/** Where an accepted message belongs (filled by scn_fleet_ingest()). */
typedef struct scn_fleet_message {
    const char *drone_id;            /**< valid until scn_fleet_free() */
    size_t drone_index;              /**< scn_fleet_drone_get() index */
    scn_fleet_stream stream;         /**< its stream */
    int64_t seq;                     /**< the companion's seq; -1: none */
    int64_t ts_ns;                   /**< the envelope's ts; -1: none */
    char run[SCN_FLEET_RUN_MAX + 1]; /**< the envelope's run ("": none) */
    /** The envelope's data member, as it is in the payload (not
     * NUL-terminated): what the companion recorded. */
    const char *data;
    size_t data_len; /**< its bytes */
    int new_drone;   /**< 1: the first message of this drone */
} scn_fleet_message;

/** Per stream counters of one drone. */
typedef struct scn_fleet_stream_stats {
    uint64_t received;   /**< messages accepted as new */
    uint64_t duplicates; /**< dropped: seq seen before */
    uint64_t gaps;       /**< seqs skipped and not (yet) arrived */
    uint64_t late;       /**< seqs that arrived after a later one */
    uint64_t restarts;   /**< seq started over (a companion restart) */
    int64_t last_seq;    /**< the newest seq; -1: none yet */
} scn_fleet_stream_stats;

/** One drone as the model knows it (scn_fleet_drone_get()). */
typedef struct scn_fleet_drone {
    char id[SCN_FLEET_ID_MAX + 1]; /**< the drone id of its topics */
    /** 1 online, 0 offline (its will, or a status saying so), -1 not
     * known (no status seen). */
    int online;
    uint64_t online_changed_ms; /**< when online last changed (0: never) */
    uint64_t first_ms;          /**< its first message */
    uint64_t last_ms;           /**< its newest message, any stream */
    int has_battery;            /**< battery_pct is known */
    double battery_pct;         /**< state "bat", % */
    int has_position;           /**< x_m, y_m, h_m are known */
    double x_m;                 /**< state x (from home, cm), in m */
    double y_m;                 /**< state y (from home, cm), in m */
    double h_m;                 /**< state h (height, cm), in m */
    /** Label of the newest inference's best-scored label ("" none). */
    char inference[48];
    double inference_score;          /**< its score */
    uint64_t inference_ms;           /**< when it arrived (0: none) */
    char version[32];                /**< status "version" ("" unknown) */
    char run[SCN_FLEET_RUN_MAX + 1]; /**< the newest run seen ("" none) */
    uint64_t runs;                   /**< runs seen (companion starts) */
    /** Counters per stream. */
    scn_fleet_stream_stats streams[SCN_FLEET_STREAM_COUNT];
    uint64_t gaps;       /**< all streams' gaps */
    uint64_t duplicates; /**< all streams' duplicates */
    uint64_t messages;   /**< all streams' new messages */
} scn_fleet_drone;

/** Counters of the whole model (scn_fleet_get_stats()). */
typedef struct scn_fleet_stats {
    uint64_t accepted;     /**< new messages */
    uint64_t duplicates;   /**< dropped as seen before */
    uint64_t bad_topic;    /**< outside the tree, bad id, unknown stream */
    uint64_t bad_payload;  /**< not an envelope (bad JSON, data, seq) */
    uint64_t refused_full; /**< from one drone more than max_drones */
    uint64_t drones;       /**< drones known */
} scn_fleet_stats;

/** Options of scn_fleet_new(); start from scn_fleet_options_init(). */
typedef struct scn_fleet_options {
    size_t struct_size; /**< set by _options_init() (options.h) */
    /** Drones kept at most (1024): a stranger publishing ids cannot make
     * the model grow without bound. */
    size_t max_drones;
} scn_fleet_options;

/** What scn_fleet_options_init() calls, with the caller's
 * sizeof(scn_fleet_options) (options.h). */
SCN_API void scn_fleet_options_init_sized(scn_fleet_options *opts, size_t size);

/** Fills opts with every default. */
static inline void scn_fleet_options_init(scn_fleet_options *opts)
{
    scn_fleet_options_init_sized(opts, sizeof(*opts));
}

/** A new, empty model. opts NULL: defaults. Returns 0,
 * SCN_ERR_INVALID_ARG (max_drones 0), SCN_ERR_OPTIONS_SIZE (options.h) or
 * SCN_ERR_NOMEM. */
SCN_API int scn_fleet_new(const scn_fleet_options *opts, scn_fleet **out);
/** Frees; NULL allowed. */
SCN_API void scn_fleet_free(scn_fleet *f);

/**
 * Takes one received message: topic, payload[0..len) (JSON), the time it
 * arrived (monotonic ms, the caller's clock). Fills *out (may be NULL)
 * when accepted. Returns SCN_FLEET_NEW, SCN_FLEET_DUPLICATE,
 * SCN_ERR_INVALID_ARG (NULL topic or payload), SCN_ERR_NOT_FOUND (topic
 * outside scentience/v1/, bad drone id), SCN_ERR_UNKNOWN_TYPE (unknown
 * stream), SCN_ERR_MALFORMED (not an envelope: not a JSON object, no
 * data object, a seq or ts that is not a non-negative integer),
 * SCN_ERR_OUT_OF_RANGE (max_drones reached), SCN_ERR_NOMEM.
 */
SCN_API int scn_fleet_ingest(scn_fleet *f, const char *topic,
                             const void *payload, size_t len, uint64_t now_ms,
                             scn_fleet_message *out);

/** Number of drones known (indexes 0..count-1, in order of arrival). */
SCN_API size_t scn_fleet_count(const scn_fleet *f);
/** Copies drone index into *out. Returns 0 or SCN_ERR_NOT_FOUND. */
SCN_API int scn_fleet_drone_get(const scn_fleet *f, size_t index,
                                scn_fleet_drone *out);
/** The index of drone id. Returns 0 (and *index) or SCN_ERR_NOT_FOUND. */
SCN_API int scn_fleet_find(const scn_fleet *f, const char *id, size_t *index);
/** Copies the counters into *out. */
SCN_API void scn_fleet_get_stats(const scn_fleet *f, scn_fleet_stats *out);

/**
 * The terminal table's header line (columns of scn_fleet_format_row()),
 * into buf (always NUL-terminated when cap > 0). Returns its length.
 */
SCN_API size_t scn_fleet_format_header(char *buf, size_t cap);
/**
 * One table row: drone, online (yes, NO, ?), battery (%), position
 * (x,y,h in m), last inference (label and score), age (time since the
 * drone's newest message, from now_ms), gaps; missing values as "-".
 * Text from the drones is escaped (scn_escape_text). Returns its length.
 */
SCN_API size_t scn_fleet_format_row(const scn_fleet_drone *d, uint64_t now_ms,
                                    char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
