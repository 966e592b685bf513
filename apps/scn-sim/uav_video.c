/* Fake H.264 frames, a pure function of (seed, frame number). */
#include "uav_video.h"

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

size_t uav_video_frame(uint64_t seed, uint64_t n, unsigned char *out)
{
    uint64_t h = mix(seed ^ mix(n ^ 0x766964656fULL)), x;
    size_t size = UAV_VIDEO_PAYLOAD_MIN +
                  (size_t)(h %
                           (UAV_VIDEO_PAYLOAD_MAX - UAV_VIDEO_PAYLOAD_MIN + 1)),
           i;

    out[0] = out[1] = out[2] = 0;
    out[3] = 1;
    out[4] = n % UAV_VIDEO_GOP ? 0x41 : 0x65;
    /* xorshift64 from the frame's hash: fast, and enough for noise */
    x = h | 1;
    for (i = 0; i < size; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[5 + i] = (unsigned char)(1 + (x >> 56) % 255);
    }
    return 5 + size;
}
