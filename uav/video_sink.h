/*
 * The video file sink: frames are copied into a bounded queue on the loop
 * thread and appended to the file by a writer thread. A full queue drops
 * the whole new frame (counted): a slow disk never stalls the loop that
 * also carries commands and state.
 */
#ifndef SCN_UAV_VIDEO_SINK_H
#define SCN_UAV_VIDEO_SINK_H

#include <stddef.h>
#include <stdint.h>

typedef struct uav_video_sink uav_video_sink;

typedef struct uav_video_sink_stats {
    uint64_t written_bytes;
    uint64_t dropped_frames;
    unsigned long crc32; /* of every byte written, in order */
} uav_video_sink_stats;

/* Opens path for appending. Returns 0, SCN_ERR_IO, SCN_ERR_NOMEM. */
int scn__uav_video_sink_open(const char *path, size_t buffer_bytes,
                             uav_video_sink **out);
/* Queues a copy of one frame. Returns 0 or SCN_ERR_QUEUE_FULL (dropped,
 * counted) or SCN_ERR_MESSAGE_TOO_BIG (larger than the buffer). */
int scn__uav_video_sink_push(uav_video_sink *sink, const void *data,
                             size_t len);
void scn__uav_video_sink_stats_get(uav_video_sink *sink,
                                   uav_video_sink_stats *out);
/* Writes what is queued, stops the writer, closes the file. NULL allowed. */
void scn__uav_video_sink_close(uav_video_sink *sink);

#endif
