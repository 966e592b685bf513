/**
 * @file
 *
 * Device frames: the flat JSON objects an olfaction device sends, one per
 * reading (see docs/PROTOCOL.md, "Device frames").
 *
 * An scn_frame is a reusable parsed view. Parsing into the same frame again
 * reuses its storage. Strings returned by accessors point into the frame and
 * stay valid until the next parse into it or scn_frame_free(). Accessors
 * never modify the frame, so several threads may read one frame at once;
 * parsing into it needs exclusive access.
 */
#ifndef SCENTIENCE_FRAME_H
#define SCENTIENCE_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <scentience/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A parsed device frame: a typed view of its fields and compounds that keeps
 * every key (opaque, reusable). */
typedef struct scn_frame scn_frame;

/** The known scalar fields. Each may be absent from a frame. */
typedef enum scn_field {
    SCN_FIELD_ENV_TEMPERATURE_C = 0, /**< "ENV_temperatureC", degrees C */
    SCN_FIELD_ENV_HUMIDITY,          /**< "ENV_humidity", % relative */
    SCN_FIELD_ENV_PRESSURE_HPA,      /**< "ENV_pressureHpa", hPa */
    SCN_FIELD_STATUS_OPU_A,          /**< "STATUS_opuA" */
    SCN_FIELD_BATT_HEALTH,           /**< "BATT_health", % */
    SCN_FIELD_BATT_V,                /**< "BATT_v", volts */
    SCN_FIELD_BATT_CHARGE,           /**< "BATT_charge", % */
    SCN_FIELD_BATT_TIME,             /**< "BATT_time", hours remaining */
    SCN_FIELD_COUNT
} scn_field;

/** The fourteen published compounds, keyed by formula. An absent compound
 * reads as 0: the protocol omits compounds whose value is not above zero. */
typedef enum scn_compound {
    SCN_CO2 = 0,
    SCN_NH3,
    SCN_NO,
    SCN_NO2,
    SCN_CO,
    SCN_C2H5OH,
    SCN_H2,
    SCN_CH4,
    SCN_C3H8,
    SCN_C4H10,
    SCN_H2S,
    SCN_HCHO,
    SCN_SO2,
    SCN_VOC,
    SCN_COMPOUND_COUNT
} scn_compound;

/** Sensor channel of a dual-sensor reading ("NH3_A"). */
typedef enum scn_channel {
    SCN_CHANNEL_SINGLE = 0, /**< "NH3" */
    SCN_CHANNEL_A = 1,      /**< "NH3_A" */
    SCN_CHANNEL_B = 2       /**< "NH3_B" */
} scn_channel;

/** How a key of the frame was understood. */
typedef enum scn_key_kind {
    SCN_KEY_UID,       /**< "UID" */
    SCN_KEY_TIMESTAMP, /**< "TIMESTAMP" */
    SCN_KEY_SEQ,       /**< "SEQ" */
    SCN_KEY_FIELD,     /**< a known scn_field */
    SCN_KEY_COMPOUND,  /**< a known compound, any channel */
    SCN_KEY_EXTENSION, /**< starts with '_' (e.g. "_sim_units") */
    SCN_KEY_UNKNOWN    /**< anything else: kept, reachable, never dropped */
} scn_key_kind;

/** Limits on what a frame may hold; beyond them parsing fails cleanly.
 * MAX_KEYS counts the frame's own (top-level) keys. MAX_DEPTH counts nested
 * objects and arrays with the frame object as level 1: {"_x":[[1]]} has
 * depth 3. */
#define SCN_FRAME_MAX_KEYS 256
#define SCN_FRAME_MAX_DEPTH                                                    \
    8 /**< deepest nesting accepted (the frame object is level 1) */

/** Creates an empty frame. Returns 0 or SCN_ERR_NOMEM. */
SCN_API int scn_frame_new(scn_frame **out);

/** Frees the frame; NULL is allowed. */
SCN_API void scn_frame_free(scn_frame *frame);

/**
 * Parses one device frame from json[0..len) (not necessarily
 * NUL-terminated; a NUL byte inside len is an error like any other byte).
 * JSON is read strictly (RFC 8259): no comments, no lenient numbers
 * ("+1", "01", ".5"), no raw control characters or "\u0000" in strings,
 * strings valid UTF-8, only whitespace around the object.
 * Returns: 0; SCN_ERR_MALFORMED (not such JSON, not an object, trailing
 * bytes, a top-level key repeated); SCN_ERR_MISSING_FIELD (no UID or no
 * TIMESTAMP); SCN_ERR_WRONG_TYPE (a known key with the wrong JSON type, e.g.
 * "CO2":"high"; a TIMESTAMP that is not ISO-8601 UTC); SCN_ERR_TOO_DEEP;
 * SCN_ERR_OUT_OF_RANGE (a number anywhere that is not finite, e.g. 1e999;
 * more keys than SCN_FRAME_MAX_KEYS; SEQ not an integer in [0, 2^53));
 * SCN_ERR_NOMEM; SCN_ERR_INVALID_ARG (frame NULL, or json NULL with len > 0).
 * Negative compound values are kept as received. On error the frame is left
 * empty, never half-filled.
 */
SCN_API int scn_frame_parse(scn_frame *frame, const char *json, size_t len);

/** "UID" of the last parse; NULL when the frame is empty. */
SCN_API const char *scn_frame_uid(const scn_frame *frame);

/** "TIMESTAMP" as nanoseconds since the Unix epoch, and as received
 * (0 and NULL when the frame is empty). */
SCN_API int64_t scn_frame_timestamp_ns(const scn_frame *frame);
/** "TIMESTAMP" as received (NULL when the frame is empty). */
SCN_API const char *scn_frame_timestamp(const scn_frame *frame);

/** "SEQ". Returns 0 or SCN_ERR_ABSENT. */
SCN_API int scn_frame_seq(const scn_frame *frame, uint64_t *seq);

/** A known scalar field. Returns 0 or SCN_ERR_ABSENT (value untouched), or
 * SCN_ERR_INVALID_ARG for a NULL argument or unknown field. */
SCN_API int scn_frame_field(const scn_frame *frame, scn_field field,
                            double *value);

/** A compound's value on a channel; 0.0 when absent (absent means zero) or
 * when c or channel is out of range. */
SCN_API double scn_frame_compound(const scn_frame *frame, scn_compound c,
                                  scn_channel channel);

/** Whether the compound was present on that channel. */
SCN_API int scn_frame_has_compound(const scn_frame *frame, scn_compound c,
                                   scn_channel channel);

/** Every key of the frame, in the order received, including unknown and
 * extension keys. index < scn_frame_key_count(). *json_value receives the
 * value as compact JSON text (e.g. "12.5", "\"abc\"", "{...}") and is valid
 * like every other frame string. The text is canonical rather than the
 * bytes received: no whitespace, numbers as scn_frame_to_json() prints
 * them, strings with only the escapes JSON requires (other characters as
 * UTF-8). Any of the three outputs may be NULL. Returns 0 or
 * SCN_ERR_INVALID_ARG. */
SCN_API size_t scn_frame_key_count(const scn_frame *frame);
/** The key at index (see scn_frame_key_count()). Returns 0 or
 * SCN_ERR_INVALID_ARG. */
SCN_API int scn_frame_key_at(const scn_frame *frame, size_t index,
                             const char **name, scn_key_kind *kind,
                             const char **json_value);

/** The value of any key (case-sensitive name) as compact JSON text, as
 * scn_frame_key_at() gives it, or NULL when absent. */
SCN_API const char *scn_frame_raw(const scn_frame *frame, const char *name);

/** Canonical key name of a field ("ENV_humidity") and of a compound
 * ("C2H5OH"); NULL when out of range. */
SCN_API const char *scn_field_name(scn_field field);
/** Canonical key name of a compound ("C2H5OH"); NULL when out of range. */
SCN_API const char *scn_compound_name(scn_compound c);

/** Looks a compound up by formula, case-insensitive ("nh3" -> SCN_NH3); a
 * channel suffix ("NH3_A") is not part of a formula.
 * Returns 0, SCN_ERR_NOT_FOUND, or SCN_ERR_INVALID_ARG for NULL. */
SCN_API int scn_compound_from_name(const char *name, scn_compound *out);

/**
 * Writes the frame as compact JSON into buf (cap bytes, NUL-terminated),
 * keeping every key in the order received; parsing the result gives the
 * same keys, order and values. Numbers are printed with the fewest of 15,
 * 16 or 17 significant digits that read back as the same double, integral
 * values below 2^53 without fraction or exponent. *written receives the
 * length without the NUL. Returns 0; SCN_ERR_NOMEM when buf is too small
 * (then *written is the buffer size needed, NUL included, and buf holds ""
 * when cap > 0; buf NULL with cap 0 just asks for the size);
 * SCN_ERR_INVALID_ARG. An empty frame writes "{}".
 */
SCN_API int scn_frame_to_json(const scn_frame *frame, char *buf, size_t cap,
                              size_t *written);

/** Parses an ISO-8601 UTC timestamp ("2025-08-29T21:00:00Z", optional
 * fraction of 1 to 9 digits, "Z" or "+00:00") into ns since the epoch.
 * Other offsets, invalid dates or times (including leap second ":60") and
 * instants outside int64 nanoseconds (1677-09-21 to 2262-04-11) are
 * refused. Returns 0 or SCN_ERR_WRONG_TYPE. */
SCN_API int scn_timestamp_parse(const char *text, int64_t *ns);

/** Formats ns since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" (milliseconds,
 * truncated toward the past) into buf (at least 25 bytes; 32 is plenty).
 * scn_timestamp_parse() reads every text written: the partial millisecond
 * at the very start of the int64 range, which truncation would take out of
 * it, is written as the first whole one (1677-09-21T00:12:43.146Z).
 * Returns 0 or SCN_ERR_INVALID_ARG. */
SCN_API int scn_timestamp_format(int64_t ns, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
