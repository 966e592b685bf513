/*
 * The drone's video: a real H.264 elementary stream (Annex B, Baseline
 * profile, UAV_VIDEO_WIDTH x UAV_VIDEO_HEIGHT) that any decoder plays, so
 * that what scn-uav --video-out writes opens in ffplay or mpv. One access
 * unit per frame, each starting with the start code 00 00 00 01:
 *
 * - frame n with n % UAV_VIDEO_GOP == 0: SPS (0x67, with the frame rate
 *   in its timing info), PPS (0x68) and an IDR picture (0x65) of raw
 *   (I_PCM) macroblocks showing diagonal stripes that move by
 *   UAV_VIDEO_STEP pixels per group of pictures: luma at (x, y) of group g
 *   is 16 + (2x + y + UAV_VIDEO_STEP g) mod 220, chroma 128 (grey);
 * - every other frame: a P picture (0x41) of skipped macroblocks, which
 *   shows the last IDR picture again.
 *
 * A pure function of the frame number and the frame rate, so a run can be
 * reproduced and what arrived checked, to the pixel.
 */
#ifndef SCN_SIM_UAV_VIDEO_H
#define SCN_SIM_UAV_VIDEO_H

#include <stddef.h>
#include <stdint.h>

#define UAV_VIDEO_WIDTH  160
#define UAV_VIDEO_HEIGHT 96
#define UAV_VIDEO_GOP    10
#define UAV_VIDEO_STEP   4
/* An IDR access unit: 60 raw macroblocks of 384 bytes, headers and
 * emulation prevention bytes included. */
#define UAV_VIDEO_FRAME_MAX (28 * 1024)

/* Writes frame n (from 0) into out (at least UAV_VIDEO_FRAME_MAX bytes);
 * fps is written into the SPS. Returns its length. */
size_t uav_video_frame(uint64_t n, double fps, unsigned char *out);

#endif
