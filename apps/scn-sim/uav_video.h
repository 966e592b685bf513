/*
 * The drone's fake video: an H.264 Annex B byte stream that only looks the
 * part. Each frame is one NAL unit: start code 00 00 00 01, a NAL header
 * byte (0x65, an IDR slice, every UAV_VIDEO_GOP frames starting with the
 * first; 0x41, a non-IDR slice, otherwise) and 1-8 KiB of payload derived
 * from (seed, frame number) alone, so a run can be reproduced and what
 * arrived checked. Payload bytes are never 0, so no start code can appear
 * inside a frame and a receiver may split the stream on start codes.
 */
#ifndef SCN_SIM_UAV_VIDEO_H
#define SCN_SIM_UAV_VIDEO_H

#include <stddef.h>
#include <stdint.h>

#define UAV_VIDEO_GOP         30
#define UAV_VIDEO_PAYLOAD_MIN 1024
#define UAV_VIDEO_PAYLOAD_MAX 8192
#define UAV_VIDEO_FRAME_MAX   (5 + UAV_VIDEO_PAYLOAD_MAX)

/* Writes frame n (from 0) into out (at least UAV_VIDEO_FRAME_MAX bytes).
 * Returns its length. */
size_t uav_video_frame(uint64_t seed, uint64_t n, unsigned char *out);

#endif
