/*
 * The MCAP recorder (scentience/recorder.h).
 *
 * Speed: a message is appended to one chunk buffer (head, then data), its
 * CRC folded in every CRC_BATCH bytes while they are hot in cache, and its
 * index entry goes to its channel's reusable entry buffer; nothing is
 * allocated per message once the buffers have grown. A chunk leaves in one
 * writev() with its message indexes, straight to the file descriptor: no stdio
 * copy. The data section CRC needs no second pass over the chunk:
 * crc32_combine() joins the chunk head's CRC with the records' CRC already
 * computed.
 *
 * Crash safety: the file only ever grows by whole records, written in file
 * order, so whatever the kernel holds after kill -9 is the magic, the
 * header and complete records, possibly followed by part of the last one.
 */
#include "mcap_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <scentience/error.h>

#include "mcap_format.h"

#define DEFAULT_CHUNK_SIZE     (256u * 1024u)
#define DEFAULT_FLUSH_INTERVAL 1000u
#define LIBRARY                "scentience-c"
#define MAX_CHANNELS           65535u
/* The chunk CRC is folded in whenever this many new bytes are waiting:
 * still in cache, and in runs long enough for zlib's fast path (CRC over
 * each ~500-byte message alone runs at half the speed). */
#define CRC_BATCH (32u * 1024u)

typedef struct wchannel {
    char *topic;
    uint32_t next_seq;
    uint64_t count;
    mcap_buf index; /* this chunk's MessageIndex entries, encoded */
    uint64_t last;  /* log time of the last entry */
    int unsorted;   /* an entry went back in time: sort at close */
    int in_chunk;   /* has entries in the open chunk */
} wchannel;

struct scn_recorder {
    int fd;
    int finished;
    int err; /* first write error; sticky */
    scn_recorder_options opts;
    uint64_t offset;   /* bytes in the file */
    uint32_t data_crc; /* CRC of every byte written so far */

    /* The open chunk: MCAP_CHUNK_HEAD_LEN bytes reserved for its head,
     * filled at close, then the message records. */
    uint8_t *chunk;
    size_t chunk_len, chunk_cap, chunk_limit;
    uint32_t chunk_crc;
    size_t crc_done; /* chunk bytes already in chunk_crc */
    uint64_t chunk_start, chunk_end, chunk_msgs;

    wchannel *ch; /* channel id i + 1 is ch[i] */
    size_t nch, ch_cap;
    uint16_t *chunk_chans; /* channels with entries in the open chunk */
    size_t n_chunk_chans;
    uint64_t *mi_offsets; /* scratch for the ChunkIndex map */
    uint16_t stream_ids[SCN_RECORD_STREAM_COUNT];
    uint16_t schema_count;

    mcap_buf mi;                /* MessageIndex records of a chunk */
    mcap_buf sum_schemas;       /* summary: Schema records */
    mcap_buf sum_channels;      /* summary: Channel records */
    mcap_buf sum_chunk_indexes; /* summary: ChunkIndex records */

    uint64_t messages, payload, chunks, flushes;
    uint64_t start, end; /* log time span of all messages */
    uint64_t since_flush;
    uint64_t last_flush_ms;
    int dirty; /* written since the last sync */
};

/* The first version's last field: the smallest struct_size accepted. */
#define RECORDER_OPTIONS_V0 SCN_OPTIONS_END(scn_recorder_options, profile)

static void recorder_defaults(scn_recorder_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->chunk_size = DEFAULT_CHUNK_SIZE;
    opts->flush_interval_ms = DEFAULT_FLUSH_INTERVAL;
}

void scn_recorder_options_init_sized(scn_recorder_options *o, size_t size)
{
    scn_recorder_options d;

    recorder_defaults(&d);
    scn_options_give(o, size, &d, sizeof(d));
}

/* The coarse clock costs a few ns; its millisecond-ish resolution is
 * plenty for a flush interval. */
static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Writes every byte of iov, resuming after partial writes and signals. */
static int write_iov(scn_recorder *rec, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(rec->fd, iov, n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return rec->err = scn_err_from_errno(errno);
        }
        rec->offset += (uint64_t)w;
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    rec->dirty = 1;
    return 0;
}

static int emit(scn_recorder *rec, const void *p, size_t n)
{
    struct iovec iov = {(void *)p, n};

    rec->data_crc = (uint32_t)crc32_z(rec->data_crc, p, n);
    return write_iov(rec, &iov, 1);
}

static void fold_crc(scn_recorder *rec)
{
    rec->chunk_crc =
        (uint32_t)crc32_z(rec->chunk_crc, rec->chunk + rec->crc_done,
                          rec->chunk_len - rec->crc_done);
    rec->crc_done = rec->chunk_len;
}

static int cmp_entry(const void *a, const void *b)
{
    uint64_t ta = mcap_get_u64(a), tb = mcap_get_u64(b);
    uint64_t oa = mcap_get_u64((const uint8_t *)a + 8);
    uint64_t ob = mcap_get_u64((const uint8_t *)b + 8);

    if (ta != tb)
        return ta < tb ? -1 : 1;
    return oa < ob ? -1 : oa > ob;
}

/* Writes the open chunk and its message indexes, and indexes it for the
 * summary. */
static int close_chunk(scn_recorder *rec)
{
    uint64_t records = rec->chunk_len - MCAP_CHUNK_HEAD_LEN;
    uint64_t chunk_offset = rec->offset, mi_offset;
    mcap_chunk_index ci;
    struct iovec iov[2];
    int rc;

    if (!rec->chunk_msgs)
        return 0;
    fold_crc(rec);
    scn__mcap_chunk_head(rec->chunk, rec->chunk_start, rec->chunk_end, records,
                         rec->chunk_crc);
    rec->mi.len = 0;
    mi_offset = chunk_offset + rec->chunk_len;
    for (size_t i = 0; i < rec->n_chunk_chans; i++) {
        uint16_t id = rec->chunk_chans[i];
        wchannel *c = &rec->ch[id - 1];
        size_t n = c->index.len / MCAP_INDEX_ENTRY_LEN;

        if (c->unsorted)
            qsort(c->index.data, n, MCAP_INDEX_ENTRY_LEN, cmp_entry);
        rec->mi_offsets[i] = mi_offset + rec->mi.len;
        if ((rc = scn__mcap_put_message_index(&rec->mi, id, c->index.data, n)))
            return rec->err = rc;
        c->index.len = 0;
        c->unsorted = 0;
        c->in_chunk = 0;
    }

    ci.start = rec->chunk_start;
    ci.end = rec->chunk_end;
    ci.chunk_offset = chunk_offset;
    ci.chunk_length = rec->chunk_len;
    ci.index_count = rec->n_chunk_chans;
    ci.index_channels = rec->chunk_chans;
    ci.index_offsets = rec->mi_offsets;
    ci.index_length = rec->mi.len;
    ci.records_len = records;
    if ((rc = scn__mcap_put_chunk_index(&rec->sum_chunk_indexes, &ci)))
        return rec->err = rc;

    rec->data_crc =
        (uint32_t)crc32_z(rec->data_crc, rec->chunk, MCAP_CHUNK_HEAD_LEN);
    rec->data_crc = (uint32_t)crc32_combine(rec->data_crc, rec->chunk_crc,
                                            (z_off_t)records);
    rec->data_crc = (uint32_t)crc32_z(rec->data_crc, rec->mi.data, rec->mi.len);
    iov[0].iov_base = rec->chunk;
    iov[0].iov_len = rec->chunk_len;
    iov[1].iov_base = rec->mi.data;
    iov[1].iov_len = rec->mi.len;
    if ((rc = write_iov(rec, iov, 2)))
        return rc;

    rec->chunks++;
    rec->chunk_len = MCAP_CHUNK_HEAD_LEN;
    rec->crc_done = MCAP_CHUNK_HEAD_LEN;
    rec->chunk_crc = (uint32_t)crc32_z(0, NULL, 0);
    rec->chunk_msgs = 0;
    rec->n_chunk_chans = 0;
    return 0;
}

static int do_flush(scn_recorder *rec)
{
    int rc = close_chunk(rec);

    if (rc)
        return rc;
    rec->since_flush = 0;
    rec->last_flush_ms = now_ms();
    if (!rec->dirty)
        return 0;
    if (!rec->opts.no_sync && fdatasync(rec->fd) != 0)
        return rec->err = scn_err_from_errno(errno);
    rec->dirty = 0;
    rec->flushes++;
    return 0;
}

/* CRC of crc's bytes followed by n zero bytes, none of them read: the
 * CRC of 2^k zeros is doubled up from one zero byte with crc32_combine. */
static uint32_t crc32_zeros(uint32_t crc, uint64_t n)
{
    static const unsigned char zero;
    uint32_t pow = (uint32_t)crc32_z(0, &zero, 1); /* of 2^k zeros */

    for (uint64_t k = 1; n != 0; k <<= 1, n >>= 1) {
        if (n & 1)
            crc = (uint32_t)crc32_combine(crc, pow, (z_off_t)k);
        pow = (uint32_t)crc32_combine(pow, pow, (z_off_t)k);
    }
    return crc;
}

int scn__recorder_write_hole(scn_recorder *rec, uint64_t body_len)
{
    uint8_t head[MCAP_PREFIX_LEN];
    uint64_t end;
    int rc;

    if (!rec || rec->finished || body_len > INT64_MAX - rec->offset)
        return SCN_ERR_INVALID_ARG;
    if (rec->err)
        return rec->err;
    if ((rc = close_chunk(rec)))
        return rc;
    head[0] = MCAP_OP_PRIVATE_HOLE;
    mcap_put_u64(head + 1, body_len);
    if ((rc = emit(rec, head, sizeof head)))
        return rc;
    end = rec->offset + body_len;
    if (ftruncate(rec->fd, (off_t)end) != 0 ||
        lseek(rec->fd, (off_t)end, SEEK_SET) != (off_t)end)
        return rec->err = SCN_ERR_IO;
    rec->data_crc = crc32_zeros(rec->data_crc, body_len);
    rec->offset = end;
    return 0;
}

int scn_recorder_new(const char *path, const scn_recorder_options *opts,
                     scn_recorder **out)
{
    scn_recorder *rec;
    mcap_buf head = {0};
    const char *profile;
    int rc, saved;

    if (!path || !out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    rec = calloc(1, sizeof(*rec));
    if (!rec)
        return SCN_ERR_NOMEM;
    recorder_defaults(&rec->opts);
    if (opts && (rc = scn_options_take(&rec->opts, sizeof(rec->opts),
                                       RECORDER_OPTIONS_V0, opts)) != 0) {
        free(rec);
        return rc;
    }
    if (!rec->opts.chunk_size)
        rec->opts.chunk_size = DEFAULT_CHUNK_SIZE;
    profile = rec->opts.profile ? rec->opts.profile : "";
    rec->opts.profile = NULL; /* not kept: only used below */
    rec->chunk_limit = MCAP_CHUNK_HEAD_LEN + rec->opts.chunk_size;
    rec->chunk_cap = rec->chunk_limit;
    rec->chunk = malloc(rec->chunk_cap);
    rec->chunk_len = MCAP_CHUNK_HEAD_LEN;
    rec->crc_done = MCAP_CHUNK_HEAD_LEN;
    rec->chunk_crc = (uint32_t)crc32_z(0, NULL, 0);
    rec->data_crc = rec->chunk_crc;
    rec->last_flush_ms = now_ms();
    rec->fd = -1;
    if (!rec->chunk || scn__mcap_buf_reserve(&head, 64) ||
        scn__mcap_put_header(&head, profile, LIBRARY)) {
        rc = SCN_ERR_NOMEM;
        goto fail;
    }
    rec->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (rec->fd < 0) {
        rc = scn_err_from_errno(errno);
        goto fail;
    }
    if ((rc = emit(rec, MCAP_MAGIC, MCAP_MAGIC_LEN)) ||
        (rc = emit(rec, head.data, head.len)))
        goto fail;
    scn__mcap_buf_free(&head);
    *out = rec;
    return 0;

fail:
    saved = errno; /* tells the caller why the file failed */
    scn__mcap_buf_free(&head);
    if (rec->fd >= 0)
        close(rec->fd);
    free(rec->chunk);
    free(rec);
    errno = saved;
    return rc;
}

static int grow_channels(scn_recorder *rec)
{
    size_t cap = rec->ch_cap ? rec->ch_cap * 2 : 8;
    wchannel *ch;
    uint16_t *cc;
    uint64_t *mo;

    if (cap > MAX_CHANNELS)
        cap = MAX_CHANNELS;
    ch = realloc(rec->ch, cap * sizeof(*ch));
    if (!ch)
        return SCN_ERR_NOMEM;
    rec->ch = ch;
    cc = realloc(rec->chunk_chans, cap * sizeof(*cc));
    if (!cc)
        return SCN_ERR_NOMEM;
    rec->chunk_chans = cc;
    mo = realloc(rec->mi_offsets, cap * sizeof(*mo));
    if (!mo)
        return SCN_ERR_NOMEM;
    rec->mi_offsets = mo;
    rec->ch_cap = cap;
    return 0;
}

int scn__recorder_add_channel_raw(scn_recorder *rec, const char *topic,
                                  const char *message_encoding,
                                  const char *schema_name,
                                  const char *schema_encoding,
                                  const void *schema, size_t schema_len,
                                  uint16_t *channel_id)
{
    mcap_buf recs = {0};
    size_t data_end;
    uint16_t id, sid = 0;
    wchannel *c;
    int rc;

    if (!rec || !topic || !message_encoding || !schema_name ||
        !schema_encoding || (!schema && schema_len) || !channel_id ||
        schema_len > UINT32_MAX)
        return SCN_ERR_INVALID_ARG;
    if (rec->finished)
        return SCN_ERR_STATE;
    if (rec->err)
        return rec->err;
    if (rec->nch >= MAX_CHANNELS)
        return SCN_ERR_OUT_OF_RANGE;
    if (rec->nch == rec->ch_cap && (rc = grow_channels(rec)))
        return rc;
    id = (uint16_t)(rec->nch + 1);
    /* One schema per channel, sharing its id: recordings have a handful of
     * channels, and the id then tells which channel a schema is for. */
    if (*schema_name || *schema_encoding || schema_len) {
        sid = id;
        if ((rc = scn__mcap_put_schema(&recs, sid, schema_name, schema_encoding,
                                       schema, schema_len)))
            goto fail;
    }
    data_end = recs.len;
    if ((rc = scn__mcap_put_channel(&recs, id, sid, topic, message_encoding)))
        goto fail;
    if ((rc = scn__mcap_buf_reserve(&rec->sum_schemas, data_end)) ||
        (rc = scn__mcap_buf_reserve(&rec->sum_channels, recs.len - data_end)))
        goto fail;
    c = &rec->ch[rec->nch];
    memset(c, 0, sizeof(*c));
    if (!(c->topic = strdup(topic))) {
        rc = SCN_ERR_NOMEM;
        goto fail;
    }
    /* Outside any chunk, so that the definitions precede every chunk that
     * uses them even in a truncated file. */
    if ((rc = emit(rec, recs.data, recs.len))) {
        free(c->topic);
        goto fail;
    }
    if (data_end) /* a channel without a schema adds none */
        memcpy(rec->sum_schemas.data + rec->sum_schemas.len, recs.data,
               data_end);
    rec->sum_schemas.len += data_end;
    memcpy(rec->sum_channels.data + rec->sum_channels.len, recs.data + data_end,
           recs.len - data_end);
    rec->sum_channels.len += recs.len - data_end;
    rec->schema_count += sid != 0;
    rec->nch++;
    *channel_id = id;
    scn__mcap_buf_free(&recs);
    return 0;

fail:
    scn__mcap_buf_free(&recs);
    return rc;
}

int scn_recorder_add_channel(scn_recorder *rec, const char *topic,
                             const char *schema_name, const char *schema_json,
                             uint16_t *channel_id)
{
    if (!rec || !topic || !schema_name || !schema_json)
        return SCN_ERR_INVALID_ARG;
    /* Unique topics, so that a topic names one stream. Recovery, which
     * copies other writers' files, may repeat one: MCAP allows it. */
    for (size_t i = 0; i < rec->nch; i++)
        if (strcmp(rec->ch[i].topic, topic) == 0)
            return SCN_ERR_STATE;
    /* "" means no schema: the channel then has schema id 0. */
    return scn__recorder_add_channel_raw(
        rec, topic, "json", *schema_json ? schema_name : "",
        *schema_json ? "jsonschema" : "", schema_json, strlen(schema_json),
        channel_id);
}

int scn_recorder_stream_channel(scn_recorder *rec, scn_record_stream stream,
                                uint16_t *channel_id)
{
    int rc;

    if (!rec || !channel_id || !scn_record_stream_topic(stream))
        return SCN_ERR_INVALID_ARG;
    if (!rec->stream_ids[stream]) {
        rc = scn_recorder_add_channel(rec, scn_record_stream_topic(stream),
                                      scn_record_stream_schema_name(stream),
                                      scn_record_stream_schema(stream),
                                      &rec->stream_ids[stream]);
        if (rc)
            return rc;
    }
    *channel_id = rec->stream_ids[stream];
    return 0;
}

int scn__recorder_write_seq(scn_recorder *rec, uint16_t channel_id,
                            uint32_t sequence, uint64_t log_time_ns,
                            uint64_t publish_time_ns, const void *data,
                            size_t len)
{
    size_t rlen = MCAP_MESSAGE_HEAD_LEN + len;
    wchannel *c;
    uint8_t *p;
    int rc;

    if (!rec || (!data && len) || channel_id == 0 || channel_id > rec->nch ||
        len > SIZE_MAX / 2)
        return SCN_ERR_INVALID_ARG;
    if (rec->finished)
        return SCN_ERR_STATE;
    if (rec->err)
        return rec->err;
    c = &rec->ch[channel_id - 1];
    if (rec->chunk_msgs && rec->chunk_len + rlen > rec->chunk_limit &&
        (rc = close_chunk(rec)))
        return rc;
    if (rec->chunk_cap - rec->chunk_len < rlen) {
        size_t cap = rec->chunk_len + rlen;
        uint8_t *nb = realloc(rec->chunk, cap);

        if (!nb)
            return SCN_ERR_NOMEM;
        rec->chunk = nb;
        rec->chunk_cap = cap;
    }
    if ((rc = scn__mcap_buf_reserve(&c->index, MCAP_INDEX_ENTRY_LEN)))
        return rc;

    p = rec->chunk + rec->chunk_len;
    mcap_message_head(p, channel_id, sequence, log_time_ns, publish_time_ns,
                      len);
    if (len)
        memcpy(p + MCAP_MESSAGE_HEAD_LEN, data, len);

    if (!c->in_chunk) {
        c->in_chunk = 1;
        rec->chunk_chans[rec->n_chunk_chans++] = channel_id;
    } else if (log_time_ns < c->last) {
        c->unsorted = 1;
    }
    c->last = log_time_ns;
    c->next_seq = sequence + 1;
    p = c->index.data + c->index.len;
    mcap_put_u64(p, log_time_ns);
    mcap_put_u64(p + 8, rec->chunk_len - MCAP_CHUNK_HEAD_LEN);
    c->index.len += MCAP_INDEX_ENTRY_LEN;
    rec->chunk_len += rlen;
    if (rec->chunk_len - rec->crc_done >= CRC_BATCH)
        fold_crc(rec);

    if (!rec->chunk_msgs++) {
        rec->chunk_start = rec->chunk_end = log_time_ns;
    } else {
        if (log_time_ns < rec->chunk_start)
            rec->chunk_start = log_time_ns;
        if (log_time_ns > rec->chunk_end)
            rec->chunk_end = log_time_ns;
    }
    if (!rec->messages++) {
        rec->start = rec->end = log_time_ns;
    } else {
        if (log_time_ns < rec->start)
            rec->start = log_time_ns;
        if (log_time_ns > rec->end)
            rec->end = log_time_ns;
    }
    c->count++;
    rec->payload += len;

    rec->since_flush++;
    if (rec->opts.flush_every_messages &&
        rec->since_flush >= rec->opts.flush_every_messages)
        return do_flush(rec);
    if (rec->opts.flush_interval_ms &&
        now_ms() - rec->last_flush_ms >= rec->opts.flush_interval_ms)
        return do_flush(rec);
    return 0;
}

int scn_recorder_write(scn_recorder *rec, uint16_t channel_id,
                       uint64_t log_time_ns, uint64_t publish_time_ns,
                       const char *json, size_t len)
{
    wchannel *c;

    if (!rec || channel_id == 0 || channel_id > rec->nch)
        return SCN_ERR_INVALID_ARG;
    c = &rec->ch[channel_id - 1];
    return scn__recorder_write_seq(rec, channel_id, c->next_seq, log_time_ns,
                                   publish_time_ns, json, len);
}

int scn_recorder_flush(scn_recorder *rec)
{
    if (!rec)
        return SCN_ERR_INVALID_ARG;
    if (rec->finished)
        return SCN_ERR_STATE;
    if (rec->err)
        return rec->err;
    return do_flush(rec);
}

int scn_recorder_poll(scn_recorder *rec)
{
    if (!rec)
        return SCN_ERR_INVALID_ARG;
    if (rec->finished)
        return SCN_ERR_STATE;
    if (rec->err)
        return rec->err;
    if (!rec->opts.flush_interval_ms || (!rec->chunk_msgs && !rec->dirty))
        return 0;
    if (now_ms() - rec->last_flush_ms < rec->opts.flush_interval_ms)
        return 0;
    return do_flush(rec);
}

/* Appends a group of summary records with its SummaryOffset to offs. */
static int put_group(mcap_buf *s, mcap_buf *offs, uint64_t file_base,
                     uint8_t opcode, const mcap_buf *group)
{
    int rc;

    if (!group->len)
        return 0;
    if ((rc = scn__mcap_put_summary_offset(offs, opcode, file_base + s->len,
                                           group->len)) ||
        (rc = scn__mcap_buf_reserve(s, group->len)))
        return rc;
    memcpy(s->data + s->len, group->data, group->len);
    s->len += group->len;
    return 0;
}

/* DataEnd, summary, summary offsets, footer and magic, in one write. */
static int write_end(scn_recorder *rec)
{
    mcap_buf s = {0}, stats = {0}, offs = {0};
    uint16_t *ids = NULL;
    uint64_t *counts = NULL, summary_start, offsets_start;
    mcap_statistics st;
    uint32_t crc;
    int rc = SCN_ERR_NOMEM;

    if (rec->nch && (!(ids = malloc(rec->nch * sizeof(*ids))) ||
                     !(counts = malloc(rec->nch * sizeof(*counts)))))
        goto out;
    for (size_t i = 0; i < rec->nch; i++) {
        ids[i] = (uint16_t)(i + 1);
        counts[i] = rec->ch[i].count;
    }
    memset(&st, 0, sizeof(st));
    st.message_count = rec->messages;
    st.schema_count = rec->schema_count;
    st.channel_count = (uint32_t)rec->nch;
    st.chunk_count = (uint32_t)rec->chunks;
    st.start = rec->start;
    st.end = rec->end;
    st.channels = rec->nch;
    st.channel_ids = ids;
    st.channel_counts = counts;

    if ((rc = scn__mcap_put_data_end(&s, rec->data_crc)) ||
        (rc = scn__mcap_put_statistics(&stats, &st)))
        goto out;
    summary_start = rec->offset + s.len;
    /* put_group() records offsets relative to the file: s starts at
     * rec->offset. */
    if ((rc = put_group(&s, &offs, rec->offset, MCAP_OP_SCHEMA,
                        &rec->sum_schemas)) ||
        (rc = put_group(&s, &offs, rec->offset, MCAP_OP_CHANNEL,
                        &rec->sum_channels)) ||
        (rc = put_group(&s, &offs, rec->offset, MCAP_OP_STATISTICS, &stats)) ||
        (rc = put_group(&s, &offs, rec->offset, MCAP_OP_CHUNK_INDEX,
                        &rec->sum_chunk_indexes)))
        goto out;
    offsets_start = rec->offset + s.len;
    if ((rc = scn__mcap_buf_reserve(&s, offs.len + MCAP_FOOTER_LEN +
                                            MCAP_MAGIC_LEN)))
        goto out;
    memcpy(s.data + s.len, offs.data, offs.len);
    s.len += offs.len;
    scn__mcap_footer_record(s.data + s.len, summary_start, offsets_start, 0);
    /* The summary CRC runs from the summary's start through the footer's
     * summary offset field. */
    crc = (uint32_t)crc32_z(0, NULL, 0);
    crc = (uint32_t)crc32_z(crc, s.data + MCAP_DATA_END_LEN,
                            s.len - MCAP_DATA_END_LEN + MCAP_FOOTER_CRC_PREFIX);
    mcap_put_u32(s.data + s.len + MCAP_FOOTER_CRC_PREFIX, crc);
    s.len += MCAP_FOOTER_LEN;
    memcpy(s.data + s.len, MCAP_MAGIC, MCAP_MAGIC_LEN);
    s.len += MCAP_MAGIC_LEN;
    rc = emit(rec, s.data, s.len);

out:
    free(ids);
    free(counts);
    scn__mcap_buf_free(&s);
    scn__mcap_buf_free(&stats);
    scn__mcap_buf_free(&offs);
    return rc ? (rec->err = rc) : 0;
}

int scn_recorder_finish(scn_recorder *rec)
{
    int rc;

    if (!rec)
        return SCN_ERR_INVALID_ARG;
    if (rec->finished)
        return SCN_ERR_STATE;
    rec->finished = 1;
    rc = rec->err;
    if (!rc && !(rc = close_chunk(rec)) && !(rc = write_end(rec)) &&
        !rec->opts.no_sync && fdatasync(rec->fd) != 0)
        rc = scn_err_from_errno(errno);
    if (close(rec->fd) != 0 && !rc)
        rc = scn_err_from_errno(errno);
    rec->fd = -1;
    return rc;
}

void scn_recorder_free(scn_recorder *rec)
{
    if (!rec)
        return;
    if (!rec->finished)
        scn_recorder_finish(rec);
    for (size_t i = 0; i < rec->nch; i++) {
        free(rec->ch[i].topic);
        scn__mcap_buf_free(&rec->ch[i].index);
    }
    free(rec->ch);
    free(rec->chunk_chans);
    free(rec->mi_offsets);
    free(rec->chunk);
    scn__mcap_buf_free(&rec->mi);
    scn__mcap_buf_free(&rec->sum_schemas);
    scn__mcap_buf_free(&rec->sum_channels);
    scn__mcap_buf_free(&rec->sum_chunk_indexes);
    free(rec);
}

void scn_recorder_get_stats(const scn_recorder *rec, scn_recorder_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof(*out));
    if (!rec)
        return;
    out->messages = rec->messages;
    out->chunks = rec->chunks;
    out->flushes = rec->flushes;
    out->bytes = rec->offset;
    out->payload_bytes = rec->payload;
    out->pending = rec->chunk_msgs;
}
