/* Video file sink: bounded queue plus a writer thread. The queue is a
 * list of frames bounded in count and bytes, under the sink's lock. */
#include "video_sink.h"

#include <pthread.h>
#include <scentience/error.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define SINK_MAX_FRAMES 1024

typedef struct sink_frame {
    struct sink_frame *next;
    size_t len;
    unsigned char data[];
} sink_frame;

struct uav_video_sink {
    FILE *file;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sink_frame *head, **tail; /* oldest first */
    size_t frames, bytes, cap_bytes;
    bool closing;
    uav_video_sink_stats stats;
};

static void *writer(void *arg)
{
    uav_video_sink *k = arg;
    unsigned long crc = crc32(0L, Z_NULL, 0);
    sink_frame *m;

    pthread_mutex_lock(&k->mu);
    for (;;) {
        while (!k->head && !k->closing)
            pthread_cond_wait(&k->cv, &k->mu);
        if (!(m = k->head))
            break; /* closing and drained */
        if (!(k->head = m->next))
            k->tail = &k->head;
        k->frames--;
        k->bytes -= m->len;
        pthread_mutex_unlock(&k->mu);
        /* The disk write happens without the lock: the loop thread keeps
         * queueing (or dropping) meanwhile. */
        size_t n = fwrite(m->data, 1, m->len, k->file);
        crc = crc32(crc, m->data, (uInt)n);
        free(m);
        pthread_mutex_lock(&k->mu);
        k->stats.written_bytes += n;
        k->stats.crc32 = crc;
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

int scn__uav_video_sink_open(const char *path, size_t buffer_bytes,
                             uav_video_sink **out)
{
    uav_video_sink *k;
    int rc;

    *out = NULL;
    k = calloc(1, sizeof(*k));
    if (!k)
        return SCN_ERR_NOMEM;
    if (buffer_bytes == 0) {
        free(k);
        return SCN_ERR_INVALID_ARG;
    }
    k->tail = &k->head;
    k->cap_bytes = buffer_bytes;
    k->file = fopen(path, "ab");
    if (!k->file) {
        rc = scn_err_from_errno(errno);
        free(k);
        return rc;
    }
    k->stats.crc32 = crc32(0L, Z_NULL, 0);
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    if (pthread_create(&k->thread, NULL, writer, k) != 0) {
        fclose(k->file);
        free(k);
        return SCN_ERR_IO;
    }
    *out = k;
    return 0;
}

/* Queues a copy of the frame. Under k->mu. */
static int enqueue(uav_video_sink *k, const void *data, size_t len)
{
    sink_frame *m;

    if (len > k->cap_bytes)
        return SCN_ERR_MESSAGE_TOO_BIG;
    /* Written as a subtraction: bytes + len could wrap. */
    if (k->frames >= SINK_MAX_FRAMES || len > k->cap_bytes - k->bytes)
        return SCN_ERR_QUEUE_FULL;
    if (len > SIZE_MAX - sizeof(*m) || !(m = malloc(sizeof(*m) + len)))
        return SCN_ERR_NOMEM;
    m->next = NULL;
    m->len = len;
    if (len)
        memcpy(m->data, data, len);
    *k->tail = m;
    k->tail = &m->next;
    k->frames++;
    k->bytes += len;
    return 0;
}

int scn__uav_video_sink_push(uav_video_sink *k, const void *data, size_t len)
{
    int rc;

    pthread_mutex_lock(&k->mu);
    rc = enqueue(k, data, len);
    if (rc == SCN_ERR_QUEUE_FULL || rc == SCN_ERR_NOMEM)
        k->stats.dropped_frames++;
    else if (rc == 0)
        pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    return rc;
}

void scn__uav_video_sink_stats_get(uav_video_sink *k, uav_video_sink_stats *out)
{
    pthread_mutex_lock(&k->mu);
    *out = k->stats;
    pthread_mutex_unlock(&k->mu);
}

void scn__uav_video_sink_close(uav_video_sink *k)
{
    if (!k)
        return;
    pthread_mutex_lock(&k->mu);
    k->closing = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    fclose(k->file);
    /* The writer drained the queue before it ended. */
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    free(k);
}
