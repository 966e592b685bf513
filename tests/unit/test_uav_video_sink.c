/* uav/video_sink.c: frames land in the file in order with their CRC; a
 * full buffer drops whole frames and counts them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "runner.h"
#include <scentience/error.h>

#include "video_sink.h"

static void test_frames_written_in_order(void **state)
{
    char path[128];
    unsigned char frame[3000], back[3 * 3000];
    unsigned long crc = crc32(0L, Z_NULL, 0);
    uav_video_sink *k;
    int fd = mkstemp(test_tmp_path(path, sizeof(path), "scn-video-XXXXXX"));
    FILE *f;

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(scn__uav_video_sink_open(path, 1 << 20, &k), 0);
    for (int i = 0; i < 3; i++) {
        memset(frame, 'a' + i, sizeof(frame));
        frame[0] = 0; /* start code bytes are just bytes here */
        crc = crc32(crc, frame, sizeof(frame));
        assert_int_equal(scn__uav_video_sink_push(k, frame, sizeof(frame)), 0);
    }
    scn__uav_video_sink_close(k);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(back, 1, sizeof(back), f), sizeof(back));
    fclose(f);
    unlink(path);
    assert_int_equal(back[1], 'a');
    assert_int_equal(back[3000 + 1], 'b');
    assert_int_equal(back[6000 + 1], 'c');
    assert_int_equal(crc32(crc32(0L, Z_NULL, 0), back, sizeof(back)), crc);
}

static void test_full_buffer_drops_whole_frames(void **state)
{
    char path[128];
    unsigned char frame[600];
    uav_video_sink *k;
    uav_video_sink_stats st;
    int fd = mkstemp(test_tmp_path(path, sizeof(path), "scn-video-XXXXXX")),
        accepted = 0, dropped = 0;

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    /* 1000 bytes of buffer: never more than one 600-byte frame queued. */
    assert_int_equal(scn__uav_video_sink_open(path, 1000, &k), 0);
    memset(frame, 'x', sizeof(frame));
    for (int i = 0; i < 200; i++) {
        int rc = scn__uav_video_sink_push(k, frame, sizeof(frame));
        assert_true(rc == 0 || rc == SCN_ERR_QUEUE_FULL);
        if (rc == 0)
            accepted++;
        else
            dropped++;
    }
    assert_int_equal(scn__uav_video_sink_push(k, frame, 2000),
                     SCN_ERR_MESSAGE_TOO_BIG);
    scn__uav_video_sink_stats_get(k, &st);
    assert_int_equal(st.dropped_frames, (uint64_t)dropped);
    scn__uav_video_sink_close(k);
    /* The file holds exactly the accepted frames, whole. */
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    assert_int_equal(ftell(f), (long)accepted * 600);
    fclose(f);
    unlink(path);
    assert_true(accepted >= 1);
    assert_int_equal(accepted + dropped, 200);
}

static void test_open_failure(void **state)
{
    uav_video_sink *k = (uav_video_sink *)1;

    (void)state;
    assert_int_equal(
        scn__uav_video_sink_open("/nonexistent-dir/x.h264", 1000, &k),
        SCN_ERR_NO_SUCH_FILE);
    assert_null(k);
    assert_int_equal(scn__uav_video_sink_open("/tmp/unused.h264", 0, &k),
                     SCN_ERR_INVALID_ARG);
    assert_null(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames_written_in_order),
        cmocka_unit_test(test_full_buffer_drops_whole_frames),
        cmocka_unit_test(test_open_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
