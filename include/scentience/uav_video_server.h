/**
 * @file
 *
 * The app's video server (default port 11111): after `streamon` the drone
 * sends binary frames (an H.264 Annex B byte stream). Each frame goes to a
 * callback and/or is appended to a file as received. The file is written by
 * a thread of its own through a bounded buffer: a slow disk drops whole
 * frames (counted) and never blocks commands or state.
 */
#ifndef SCENTIENCE_UAV_VIDEO_SERVER_H
#define SCENTIENCE_UAV_VIDEO_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <scentience/options.h>
#include <scentience/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The server the drone pushes its video to (UAV-Sockets port 11111; opaque).
 */
typedef struct scn_uav_video_server scn_uav_video_server;

/** Counters of a video server (scn_uav_video_server_get_stats()). */
typedef struct scn_uav_video_stats {
    uint64_t frames;         /**< received */
    uint64_t bytes;          /**< received */
    uint64_t written_bytes;  /**< appended to the file */
    uint64_t dropped_frames; /**< not written: the buffer was full */
    uint64_t refused_peers;  /**< connections from other addresses */
    unsigned long crc32;     /**< zlib CRC-32 of every byte written */
} scn_uav_video_stats;

/** Options of scn_uav_video_server_new(); initialise with
 * scn_uav_video_server_options_init(). */
typedef struct scn_uav_video_server_options {
    size_t struct_size;       /**< set by _options_init() (options.h) */
    const char *bind_address; /**< "0.0.0.0" */
    int port;                 /**< 11111; 0: ephemeral */
    const char *drone_url;    /**< its host's addresses are allowed */
    const char *allow_peer;   /**< overrides the address from drone_url */
    int allow_any_peer;       /**< accept any address (explicit opt-in) */
    const char *out_path;     /**< append frames here; NULL: no file */
    size_t buffer_bytes;      /**< file buffer bound (8 MiB) */
    size_t max_frame_bytes;   /**< larger frames close the link (4 MiB) */
    /** Every video frame as received (H.264 in the drones seen so far). */
    void (*on_frame)(scn_uav_video_server *srv, const unsigned char *data,
                     size_t len, void *user);
    void *user; /**< passed to on_frame */
} scn_uav_video_server_options;

/** What scn_uav_video_server_options_init() calls, with the caller's
 * sizeof(scn_uav_video_server_options) (scentience/options.h). */
SCN_API void
scn_uav_video_server_options_init_sized(scn_uav_video_server_options *o,
                                        size_t size);

/** Fills o with every default. */
static inline void
scn_uav_video_server_options_init(scn_uav_video_server_options *o)
{
    scn_uav_video_server_options_init_sized(o, sizeof(*o));
}
/** Returns 0, SCN_ERR_INVALID_ARG, SCN_ERR_URL, SCN_ERR_NOMEM, the socket
 * errors of scn_server_new() (SCN_ERR_ADDRESS_IN_USE...), or why out_path
 * cannot be opened (scn_err_from_errno(): PERMISSION, NO_SUCH_FILE, ...
 * or SCN_ERR_IO). */
SCN_API int scn_uav_video_server_new(scn_loop *loop,
                                     const scn_uav_video_server_options *o,
                                     scn_uav_video_server **out);
/** Flushes what is buffered, stops the writer, frees. NULL allowed. */
SCN_API void scn_uav_video_server_free(scn_uav_video_server *srv);
/** The port it listens on (the one the kernel chose for port 0). */
SCN_API int scn_uav_video_server_port(const scn_uav_video_server *srv);
/** Thread-safe copy of the counters. */
SCN_API void scn_uav_video_server_get_stats(scn_uav_video_server *srv,
                                            scn_uav_video_stats *out);

#ifdef __cplusplus
}
#endif

#endif
