/* Video file sink: bounded queue plus a writer thread. */
#include "video_sink.h"

#include <pthread.h>
#include <scentience/error.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#include "msgq.h"

#define SINK_MAX_FRAMES 1024

struct uav_video_sink {
    FILE *file;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    scn_msgq q;
    bool closing;
    uav_video_sink_stats stats;
};

static void *writer(void *arg)
{
    uav_video_sink *k = arg;
    unsigned long crc = crc32(0L, Z_NULL, 0);
    scn_msg m;

    pthread_mutex_lock(&k->mu);
    for (;;) {
        while (!k->q.count && !k->closing)
            pthread_cond_wait(&k->cv, &k->mu);
        if (!scn_msgq_take(&k->q, &m))
            break; /* closing and drained */
        pthread_mutex_unlock(&k->mu);
        /* The disk write happens without the lock: the loop thread keeps
         * queueing (or dropping) meanwhile. */
        size_t n = fwrite(m.buf, 1, m.len, k->file);
        crc = crc32(crc, m.buf, (uInt)n);
        free(m.buf);
        pthread_mutex_lock(&k->mu);
        k->stats.written_bytes += n;
        k->stats.crc32 = crc;
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

int uav_video_sink_open(const char *path, size_t buffer_bytes,
                        uav_video_sink **out)
{
    uav_video_sink *k;
    int rc;

    *out = NULL;
    k = calloc(1, sizeof(*k));
    if (!k)
        return SCN_ERR_NOMEM;
    rc = scn_msgq_init(&k->q, SINK_MAX_FRAMES, buffer_bytes, 0);
    if (rc) {
        free(k);
        return rc;
    }
    k->file = fopen(path, "ab");
    if (!k->file) {
        rc = scn_err_from_errno(errno);
        scn_msgq_free(&k->q);
        free(k);
        return rc;
    }
    k->stats.crc32 = crc32(0L, Z_NULL, 0);
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    if (pthread_create(&k->thread, NULL, writer, k) != 0) {
        fclose(k->file);
        scn_msgq_free(&k->q);
        free(k);
        return SCN_ERR_IO;
    }
    *out = k;
    return 0;
}

int uav_video_sink_push(uav_video_sink *k, const void *data, size_t len)
{
    int rc;

    pthread_mutex_lock(&k->mu);
    rc = scn_msgq_push(&k->q, data, len);
    if (rc == SCN_ERR_QUEUE_FULL || rc == SCN_ERR_NOMEM)
        k->stats.dropped_frames++;
    else if (rc == 0)
        pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    return rc;
}

void uav_video_sink_stats_get(uav_video_sink *k, uav_video_sink_stats *out)
{
    pthread_mutex_lock(&k->mu);
    *out = k->stats;
    pthread_mutex_unlock(&k->mu);
}

void uav_video_sink_close(uav_video_sink *k)
{
    if (!k)
        return;
    pthread_mutex_lock(&k->mu);
    k->closing = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    fclose(k->file);
    scn_msgq_free(&k->q);
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    free(k);
}
