/**
 * @file
 *
 * A recorder: writes timestamped JSON messages to an MCAP file
 * (https://mcap.dev/spec), the container format Foxglove, ROS 2 and the
 * mcap libraries read.
 *
 * Layout: magic, Header, then Schema and Channel records as channels are
 * added, then Chunks (uncompressed) each followed by one MessageIndex record
 * per channel it holds; at the end DataEnd (with the data section CRC), a
 * summary (Schema, Channel, Statistics, ChunkIndex records and their
 * SummaryOffsets) and the Footer. Messages use the "json" encoding; every
 * channel has a JSON Schema ("jsonschema").
 *
 * Crash safety: at every flush the open chunk is written and the file is
 * synced (fdatasync), so a process killed at any point leaves a file whose
 * content up to the last flush is a valid MCAP prefix (magic, header,
 * complete chunks with their message indexes). scn_recording_recover()
 * (recording.h) turns such a file into a complete, indexed one.
 *
 * Keys: the recorder never receives an API key; nothing in this API takes
 * one. Callers that record connection events write only the redacted form
 * (scn_session_key_redacted()).
 *
 * A recorder is not thread-safe: use it from one thread, or lock around it.
 */
#ifndef SCENTIENCE_RECORDER_H
#define SCENTIENCE_RECORDER_H

#include <stddef.h>
#include <stdint.h>
#include <scentience/options.h>
#include <scentience/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An MCAP recorder writing one file (opaque). */
typedef struct scn_recorder scn_recorder;

/** The well-known streams, each on its own channel with its own schema. */
typedef enum scn_record_stream {
    SCN_RECORD_OLFACTION = 0, /**< "/olfaction": device frames */
    SCN_RECORD_UAV_STATE,     /**< "/uav/state": drone state strings, parsed */
    SCN_RECORD_UAV_COMMAND,   /**< "/uav/command": commands and answers */
    SCN_RECORD_INFERENCE,     /**< "/inference": cloud inference results */
    SCN_RECORD_EVENTS,        /**< "/events": connection and app events */
    SCN_RECORD_CLOUD_RECORD,  /**< "/cloud/record": fused records sent */
    SCN_RECORD_STREAM_COUNT   /**< number of well-known streams */
} scn_record_stream;

/** Topic ("/olfaction"), schema name ("scentience.Olfaction") and JSON Schema
 * text of a well-known stream; NULL when out of range. */
SCN_API const char *scn_record_stream_topic(scn_record_stream stream);
/** Schema name of a well-known stream ("scentience.Olfaction"); NULL when out
 * of range. */
SCN_API const char *scn_record_stream_schema_name(scn_record_stream stream);
/** JSON Schema text of a well-known stream; NULL when out of range. */
SCN_API const char *scn_record_stream_schema(scn_record_stream stream);

/** Options of scn_recorder_new(); initialise with scn_recorder_options_init().
 */
typedef struct scn_recorder_options {
    size_t struct_size; /**< set by _options_init() (options.h) */
    /** A chunk is written when adding a message would take it past this
     * many bytes (256 KiB). A larger message gets a chunk of its own. */
    size_t chunk_size;
    /** Flush (write the open chunk and fdatasync) when this long has passed
     * since the last flush, checked at every write and by
     * scn_recorder_poll() (1000 ms); 0: no time-based flush. */
    uint32_t flush_interval_ms;
    /** Also flush after this many messages; 0 (default): no count limit. */
    uint32_t flush_every_messages;
    /** Skip fdatasync at flushes: the data reaches the kernel (so it
     * survives kill -9) but not necessarily the disk (power loss). For
     * benchmarks and tmpfs. */
    int no_sync;
    /** The Header's profile string; NULL: "" (no well-known profile). */
    const char *profile;
} scn_recorder_options;

/** What scn_recorder_options_init() calls, with the caller's
 * sizeof(scn_recorder_options) (scentience/options.h). */
SCN_API void scn_recorder_options_init_sized(scn_recorder_options *opts,
                                             size_t size);

/** Fills opts with every default. */
static inline void scn_recorder_options_init(scn_recorder_options *opts)
{
    scn_recorder_options_init_sized(opts, sizeof(*opts));
}

/**
 * Creates (or truncates) path and writes the magic and Header. opts NULL
 * means defaults. No channel exists until one is added or a stream's
 * channel is asked for.
 * Returns 0, SCN_ERR_INVALID_ARG, SCN_ERR_NOMEM, or why the file could
 * not be created or written (scn_err_from_errno: NO_SUCH_FILE, PERMISSION,
 * IS_DIRECTORY, NO_SPACE, READ_ONLY..., else SCN_ERR_IO).
 */
SCN_API int scn_recorder_new(const char *path, const scn_recorder_options *opts,
                             scn_recorder **out);

/**
 * Finishes the file: writes the open chunk, DataEnd, the summary and the
 * Footer, syncs and closes it. Later writes fail with SCN_ERR_STATE.
 * Returns 0, or the first error met while writing (SCN_ERR_NO_SPACE,
 * other system errors as scn_err_from_errno, SCN_ERR_NOMEM); the file is
 * then a prefix that recovery can repair.
 */
SCN_API int scn_recorder_finish(scn_recorder *rec);

/** Finishes the file when not finished yet, then frees. NULL is allowed. */
SCN_API void scn_recorder_free(scn_recorder *rec);

/**
 * The channel of a well-known stream, added (with its schema) on first
 * use so that a recording lists only the streams it holds.
 * Returns 0, SCN_ERR_INVALID_ARG, SCN_ERR_STATE (finished), SCN_ERR_NOMEM,
 * SCN_ERR_IO.
 */
SCN_API int scn_recorder_stream_channel(scn_recorder *rec,
                                        scn_record_stream stream,
                                        uint16_t *channel_id);

/**
 * Adds a channel with message encoding "json" and a JSON Schema
 * (schema_json, encoding "jsonschema") named schema_name; schema_json ""
 * means no schema (schema id 0, schema_name unused).
 * Topics are unique: adding a topic twice returns SCN_ERR_STATE.
 * Returns 0, SCN_ERR_INVALID_ARG, SCN_ERR_STATE, SCN_ERR_OUT_OF_RANGE
 * (65535 channels), SCN_ERR_NOMEM, SCN_ERR_IO.
 */
SCN_API int scn_recorder_add_channel(scn_recorder *rec, const char *topic,
                                     const char *schema_name,
                                     const char *schema_json,
                                     uint16_t *channel_id);

/**
 * Appends one message: json[0..len) (copied, not validated) with its log
 * time (when it was received or recorded) and publish time (when its
 * source produced it), nanoseconds since the Unix epoch. No allocation
 * happens unless the message is larger than any before it.
 * Returns 0, SCN_ERR_INVALID_ARG (unknown channel, NULL), SCN_ERR_STATE,
 * SCN_ERR_NOMEM, a system error as scn_err_from_errno (NO_SPACE...;
 * sticky: later calls return it too).
 */
SCN_API int scn_recorder_write(scn_recorder *rec, uint16_t channel_id,
                               uint64_t log_time_ns, uint64_t publish_time_ns,
                               const char *json, size_t len);

/** Writes the open chunk and syncs now. Returns 0, SCN_ERR_STATE, SCN_ERR_IO.
 */
SCN_API int scn_recorder_flush(scn_recorder *rec);

/** Flushes when the flush interval has passed and messages are pending;
 * call it from a timer so that a quiet stream still reaches the disk.
 * Returns as scn_recorder_flush(). */
SCN_API int scn_recorder_poll(scn_recorder *rec);

/** Counters of a recorder (scn_recorder_get_stats()). */
typedef struct scn_recorder_stats {
    uint64_t messages;      /**< messages written so far */
    uint64_t chunks;        /**< chunks written to the file */
    uint64_t flushes;       /**< syncs done */
    uint64_t bytes;         /**< bytes in the file so far */
    uint64_t payload_bytes; /**< sum of the message lengths */
    uint64_t pending;       /**< messages in the open chunk (not in the file) */
} scn_recorder_stats;

/** Copies the counters into *out. */
SCN_API void scn_recorder_get_stats(const scn_recorder *rec,
                                    scn_recorder_stats *out);

#ifdef __cplusplus
}
#endif

#endif
