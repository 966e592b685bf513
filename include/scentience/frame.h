/*
 * Device frames: the flat JSON objects an olfaction device sends, one per
 * reading (see docs/PROTOCOL.md, "Device frames").
 *
 * An scn_frame is a reusable parsed view. Parsing into the same frame again
 * reuses its storage. Strings returned by accessors point into the frame and
 * stay valid until the next parse into it or scn_frame_free().
 */
#ifndef SCENTIENCE_FRAME_H
#define SCENTIENCE_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <scentience/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct scn_frame scn_frame;

/* The known scalar fields. Each may be absent from a frame. */
typedef enum scn_field {
    SCN_FIELD_ENV_TEMPERATURE_C = 0, /* "ENV_temperatureC", degrees C */
    SCN_FIELD_ENV_HUMIDITY,          /* "ENV_humidity", % relative */
    SCN_FIELD_ENV_PRESSURE_HPA,      /* "ENV_pressureHpa", hPa */
    SCN_FIELD_STATUS_OPU_A,          /* "STATUS_opuA" */
    SCN_FIELD_BATT_HEALTH,           /* "BATT_health", % */
    SCN_FIELD_BATT_V,                /* "BATT_v", volts */
    SCN_FIELD_BATT_CHARGE,           /* "BATT_charge", % */
    SCN_FIELD_BATT_TIME,             /* "BATT_time", hours remaining */
    SCN_FIELD_COUNT
} scn_field;

/* The fourteen published compounds, keyed by formula. An absent compound
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

/* Sensor channel of a dual-sensor reading ("NH3_A"). */
typedef enum scn_channel {
    SCN_CHANNEL_SINGLE = 0, /* "NH3" */
    SCN_CHANNEL_A = 1,      /* "NH3_A" */
    SCN_CHANNEL_B = 2       /* "NH3_B" */
} scn_channel;

/* How a key of the frame was understood. */
typedef enum scn_key_kind {
    SCN_KEY_UID,       /* "UID" */
    SCN_KEY_TIMESTAMP, /* "TIMESTAMP" */
    SCN_KEY_SEQ,       /* "SEQ" */
    SCN_KEY_FIELD,     /* a known scn_field */
    SCN_KEY_COMPOUND,  /* a known compound, any channel */
    SCN_KEY_EXTENSION, /* starts with '_' (e.g. "_sim_units") */
    SCN_KEY_UNKNOWN    /* anything else: kept, reachable, never dropped */
} scn_key_kind;

/* Limits on what a frame may hold; beyond them parsing fails cleanly. */
#define SCN_FRAME_MAX_KEYS 256
#define SCN_FRAME_MAX_DEPTH 8

/* Creates an empty frame. Returns 0 or SCN_ERR_NOMEM. */
SCN_API int scn_frame_new(scn_frame **out);

/* Frees the frame; NULL is allowed. */
SCN_API void scn_frame_free(scn_frame *frame);

/*
 * Parses one device frame from json[0..len) (not necessarily
 * NUL-terminated).
 * Returns: 0; SCN_ERR_MALFORMED (not JSON, not an object, trailing bytes);
 * SCN_ERR_MISSING_FIELD (no UID or no TIMESTAMP); SCN_ERR_WRONG_TYPE (a known
 * key with the wrong JSON type, e.g. "CO2":"high"; a TIMESTAMP that is not
 * ISO-8601 UTC); SCN_ERR_TOO_DEEP; SCN_ERR_OUT_OF_RANGE (a number that is not
 * finite, more keys than SCN_FRAME_MAX_KEYS, SEQ not a non-negative integer).
 * On error the frame is left empty, never half-filled.
 */
SCN_API int scn_frame_parse(scn_frame *frame, const char *json, size_t len);

/* "UID" of the last parse. */
SCN_API const char *scn_frame_uid(const scn_frame *frame);

/* "TIMESTAMP" as nanoseconds since the Unix epoch, and as received. */
SCN_API int64_t scn_frame_timestamp_ns(const scn_frame *frame);
SCN_API const char *scn_frame_timestamp(const scn_frame *frame);

/* "SEQ". Returns 0 or SCN_ERR_ABSENT. */
SCN_API int scn_frame_seq(const scn_frame *frame, uint64_t *seq);

/* A known scalar field. Returns 0 or SCN_ERR_ABSENT (value untouched). */
SCN_API int scn_frame_field(const scn_frame *frame, scn_field field,
                            double *value);

/* A compound's value on a channel; 0.0 when absent (absent means zero). */
SCN_API double scn_frame_compound(const scn_frame *frame, scn_compound c,
                                  scn_channel channel);

/* Whether the compound was present on that channel. */
SCN_API int scn_frame_has_compound(const scn_frame *frame, scn_compound c,
                                   scn_channel channel);

/* Every key of the frame, in the order received, including unknown and
 * extension keys. index < scn_frame_key_count(). *json_value receives the
 * value as compact JSON text (e.g. "12.5", "\"abc\"", "{...}") and is valid
 * like every other frame string. Returns 0 or SCN_ERR_INVALID_ARG. */
SCN_API size_t scn_frame_key_count(const scn_frame *frame);
SCN_API int scn_frame_key_at(const scn_frame *frame, size_t index,
                             const char **name, scn_key_kind *kind,
                             const char **json_value);

/* The value of any key as compact JSON text, or NULL when absent. */
SCN_API const char *scn_frame_raw(const scn_frame *frame, const char *name);

/* Canonical key name of a field ("ENV_humidity") and of a compound
 * ("C2H5OH"). */
SCN_API const char *scn_field_name(scn_field field);
SCN_API const char *scn_compound_name(scn_compound c);

/* Looks a compound up by formula, case-insensitive ("nh3" -> SCN_NH3).
 * Returns 0 or SCN_ERR_NOT_FOUND. */
SCN_API int scn_compound_from_name(const char *name, scn_compound *out);

/*
 * Writes the frame as compact JSON into buf (cap bytes, NUL-terminated),
 * keeping every key in the order received. *written receives the length
 * without the NUL. Returns 0, or SCN_ERR_NOMEM
 * when buf is too small (then *written is the size needed).
 */
SCN_API int scn_frame_to_json(const scn_frame *frame, char *buf, size_t cap,
                              size_t *written);

/* Parses an ISO-8601 UTC timestamp ("2025-08-29T21:00:00Z", optional
 * fraction up to nanoseconds, "Z" or "+00:00") into ns since the epoch.
 * Returns 0 or SCN_ERR_WRONG_TYPE. */
SCN_API int scn_timestamp_parse(const char *text, int64_t *ns);

/* Formats ns since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" (milliseconds)
 * into buf (at least 32 bytes). Returns 0 or SCN_ERR_INVALID_ARG. */
SCN_API int scn_timestamp_format(int64_t ns, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
