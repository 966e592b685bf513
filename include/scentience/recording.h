/**
 * @file
 *
 * Reading MCAP recordings: the files scn_recorder writes, and any MCAP file
 * with uncompressed chunks.
 *
 * Opening scans the data section record by record and checks every record's
 * bounds, every chunk CRC, and, on a finished file, the data section CRC,
 * the summary CRC and the statistics against what was read. A file whose
 * writer was killed ends in an incomplete record: reading stops at the end
 * of the last complete one (a chunk is complete when its whole record is
 * there; the message indexes after it are not needed) and the recording is
 * reported as not complete.
 *
 * A recording is read-only and may be read by several threads as long as
 * each message iteration (scn_recording_next) stays on one thread.
 */
#ifndef SCENTIENCE_RECORDING_H
#define SCENTIENCE_RECORDING_H

#include <stddef.h>
#include <stdint.h>
#include <scentience/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An open MCAP recording, read-only (opaque). */
typedef struct scn_recording scn_recording;

/** Open flags. */
enum {
    /** Stop at the first corrupt record (CRC mismatch, malformed record)
     * and keep what came before, instead of failing. For recovery. */
    SCN_RECORDING_SALVAGE = 1u << 0
};

/** One channel of a recording. */
typedef struct scn_recording_channel {
    uint16_t id;                  /**< channel id in the file */
    const char *topic;            /**< e.g. "/olfaction" */
    const char *message_encoding; /**< "json" */
    uint16_t schema_id;           /**< 0: no schema */
    const char *schema_name;      /**< "" without a schema */
    const char *schema_encoding;  /**< "jsonschema"; "" without a schema */
    const char *schema_data;      /**< NUL-terminated copy of the schema */
    size_t schema_len;            /**< bytes in schema_data */
    uint64_t message_count;       /**< messages read from this channel */
    uint64_t start_ns;            /**< first and last log time; 0 when none */
    uint64_t end_ns;              /**< last log time; 0 when none */
} scn_recording_channel;

/** What scn_recording_get_info() reports about a recording. */
typedef struct scn_recording_info {
    int complete;  /**< DataEnd, summary and footer present and valid */
    int truncated; /**< the file ends in an incomplete record (killed) */
    int salvaged;  /**< SCN_RECORDING_SALVAGE stopped at a corrupt record */
    uint64_t message_count; /**< messages read, every channel */
    uint64_t start_ns;      /**< earliest and latest log time; 0 when empty */
    uint64_t end_ns;        /**< latest log time; 0 when empty */
    size_t channel_count;   /**< channels (see scn_recording_channel_at()) */
    uint64_t chunk_count;   /**< chunks read */
    uint64_t file_bytes;    /**< size of the file */
    uint64_t valid_bytes;   /**< end of the last complete record read */
    const char *profile;    /**< from the Header */
    const char *library;    /**< the writer, from the Header */
} scn_recording_info;

/** One message, as scn_recording_next() returns it. */
typedef struct scn_recording_message {
    const scn_recording_channel *channel; /**< its channel */
    uint32_t sequence;                    /**< the writer's sequence number */
    uint64_t log_time_ns; /**< when it was recorded, ns since the Unix epoch */
    uint64_t publish_time_ns; /**< when its source produced it, ns since the
                                 Unix epoch */
    const char *data;         /**< points into the file; not NUL-terminated */
    size_t len;               /**< bytes at data */
} scn_recording_message;

/**
 * Opens and scans path (mapped read-only; the file must not shrink while
 * open). flags: SCN_RECORDING_*. The whole file is mapped: on a 32-bit
 * system a recording larger than the free address space (about 2 GiB)
 * cannot be opened (SCN_ERR_IO with errno ENOMEM or EOVERFLOW); read it
 * on a 64-bit machine. Writing one has no such limit.
 * Returns 0; SCN_ERR_IO (errno tells why); SCN_ERR_MCAP_TRUNCATED (shorter
 * than magic and Header); SCN_ERR_MCAP_FORMAT (not MCAP, malformed record,
 * summary disagreeing with the data); SCN_ERR_MCAP_CRC; SCN_ERR_UNSUPPORTED
 * (compressed chunks); SCN_ERR_NOMEM; SCN_ERR_INVALID_ARG.
 */
SCN_API int scn_recording_open(const char *path, unsigned flags,
                               scn_recording **out);

/** As scn_recording_open() on a file already in memory; data must outlive
 * the recording. */
SCN_API int scn_recording_open_memory(const void *data, size_t len,
                                      unsigned flags, scn_recording **out);

/** NULL is allowed. */
SCN_API void scn_recording_close(scn_recording *r);

/** Copies what is known about the recording into *out. */
SCN_API void scn_recording_get_info(const scn_recording *r,
                                    scn_recording_info *out);

/** Channels in order of id; NULL when index >= channel_count. */
SCN_API const scn_recording_channel *
scn_recording_channel_at(const scn_recording *r, size_t index);

/** The channel with that topic, NULL when none. */
SCN_API const scn_recording_channel *
scn_recording_find_channel(const scn_recording *r, const char *topic);

/**
 * Iterates every message in log time order (ties in file order). Returns
 * 1 with *msg filled, 0 at the end. Pointers stay valid until close.
 */
SCN_API int scn_recording_next(scn_recording *r, scn_recording_message *msg);

/** Starts the iteration again from the first message. */
SCN_API void scn_recording_rewind(scn_recording *r);

/**
 * Reads whatever is valid in in (a killed or damaged recording: up to the
 * last complete chunk, or the first corrupt record) and writes it to out as
 * a complete, indexed file: same topics, schemas, encodings, times and
 * sequence numbers, messages in log time order. kept (may be NULL)
 * describes what was read from in. in and out must be different files;
 * out is removed on failure.
 * Returns 0, or as scn_recording_open() and scn_recorder_new().
 */
SCN_API int scn_recording_recover(const char *in, const char *out,
                                  scn_recording_info *kept);

#ifdef __cplusplus
}
#endif

#endif
