/*
 * Reading MCAP recordings (scentience/recording.h).
 *
 * The file is mapped and scanned once, front to back, without trusting the
 * summary: a killed recording has none, and a damaged one may disagree
 * with its data. The scan keeps one 16-byte reference per message (log
 * time, file offset) and sorts them once, so iteration in time order costs
 * no further parsing than the message record itself. A finished file's
 * summary is then checked against what the scan found.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <scentience/error.h>
#include <scentience/recording.h>

#include "mcap_format.h"

#define NO_SLOT 0u

typedef struct msgref {
    uint64_t log_time;
    uint64_t offset; /* of the Message record in the file */
} msgref;

struct scn_recording {
    const uint8_t *data;
    size_t size;
    void *map; /* non-NULL when we mapped the file */

    mcap_schema *schemas; /* point into the file */
    size_t nschemas, schemas_cap;
    scn_recording_channel *ch; /* strings in one block each, owned */
    size_t nch, ch_cap;
    uint32_t *slot; /* channel id -> index + 1 into ch */

    msgref *msgs;
    size_t nmsg, msgs_cap;
    size_t next;

    scn_recording_info info;
    char *profile, *library;
};

static char *dup_n(const void *p, size_t n)
{
    char *s = malloc(n + 1);

    if (s) {
        if (n)
            memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* items (cap elements of size bytes, n in use) with room for one more:
 * items itself, or a copy with twice the capacity (first when empty).
 * NULL when out of memory; items is then unchanged. */
static void *grow(void *items, size_t *cap, size_t n, size_t size, size_t first)
{
    size_t c = *cap ? *cap * 2 : first;
    void *p;

    if (n < *cap)
        return items;
    if (c > SIZE_MAX / size || !(p = realloc(items, c * size)))
        return NULL;
    *cap = c;
    return p;
}

static const mcap_schema *find_schema(const scn_recording *r, uint16_t id)
{
    for (size_t i = 0; i < r->nschemas; i++)
        if (r->schemas[i].id == id)
            return &r->schemas[i];
    return NULL;
}

static int add_schema(scn_recording *r, const mcap_record *rec)
{
    mcap_schema s;
    void *p;
    int rc;

    if ((rc = scn__mcap_parse_schema(rec, &s)))
        return rc;
    if (s.id == 0)
        return SCN_ERR_MCAP_FORMAT; /* 0 means "no schema" */
    if (find_schema(r, s.id))
        return 0; /* repeated (chunks, summary): the first one holds */
    if (!(p = grow(r->schemas, &r->schemas_cap, r->nschemas,
                   sizeof(*r->schemas), 8)))
        return SCN_ERR_NOMEM;
    r->schemas = p;
    r->schemas[r->nschemas++] = s;
    return 0;
}

/* A channel's strings live in one block that starts at its topic. */
static int add_channel(scn_recording *r, const mcap_record *rec)
{
    static const mcap_schema none = {0, {"", 0}, {"", 0}, NULL, 0};
    const mcap_schema *s = &none;
    scn_recording_channel *c;
    mcap_channel mc;
    size_t total;
    void *p;
    char *b;
    int rc;

    if ((rc = scn__mcap_parse_channel(rec, &mc)))
        return rc;
    if (r->slot[mc.id] != NO_SLOT)
        return 0;
    if (mc.schema_id && !(s = find_schema(r, mc.schema_id)))
        return SCN_ERR_MCAP_FORMAT; /* a schema must precede its channel */
    if (!(p = grow(r->ch, &r->ch_cap, r->nch, sizeof(*r->ch), 8)))
        return SCN_ERR_NOMEM;
    r->ch = p;
    total = mc.topic.len + mc.message_encoding.len + s->name.len +
            s->encoding.len + s->len + 5;
    if (!(b = malloc(total)))
        return SCN_ERR_NOMEM;
    c = &r->ch[r->nch];
    memset(c, 0, sizeof(*c));
    c->id = mc.id;
    c->schema_id = mc.schema_id;
    c->schema_len = s->len;
#define PUT_(field, src, n)                                                    \
    do {                                                                       \
        memcpy(b, (src), (n));                                                 \
        b[n] = '\0';                                                           \
        c->field = b;                                                          \
        b += (n) + 1;                                                          \
    } while (0)
    PUT_(topic, mc.topic.p, mc.topic.len);
    PUT_(message_encoding, mc.message_encoding.p, mc.message_encoding.len);
    PUT_(schema_name, s->name.p, s->name.len);
    PUT_(schema_encoding, s->encoding.p, s->encoding.len);
    if (s->len)
        PUT_(schema_data, s->data, s->len);
    else
        PUT_(schema_data, "", 0);
#undef PUT_
    r->slot[mc.id] = (uint32_t)++r->nch;
    return 0;
}

static int add_message(scn_recording *r, const mcap_record *rec,
                       uint64_t offset)
{
    mcap_message m;
    void *p;
    int rc;

    if ((rc = scn__mcap_parse_message(rec, &m)))
        return rc;
    if (r->slot[m.channel_id] == NO_SLOT)
        return SCN_ERR_MCAP_FORMAT; /* a channel must precede its messages */
    if (!(p = grow(r->msgs, &r->msgs_cap, r->nmsg, sizeof(*r->msgs), 1024)))
        return SCN_ERR_NOMEM;
    r->msgs = p;
    r->msgs[r->nmsg].log_time = m.log_time;
    r->msgs[r->nmsg].offset = offset;
    r->nmsg++;
    return 0;
}

/* Drops the channels added after a failed chunk: salvage keeps only what
 * whole, valid chunks defined. */
static void drop_channels(scn_recording *r, size_t keep)
{
    while (r->nch > keep) {
        scn_recording_channel *c = &r->ch[--r->nch];

        r->slot[c->id] = NO_SLOT;
        free((char *)c->topic);
    }
}

static int read_chunk(scn_recording *r, const mcap_record *rec)
{
    size_t pos = 0, keep_msgs = r->nmsg, keep_ch = r->nch,
           keep_schemas = r->nschemas;
    mcap_chunk ck;
    int rc;

    if ((rc = scn__mcap_parse_chunk(rec, &ck)))
        return rc;
    if (ck.compression.len)
        return SCN_ERR_UNSUPPORTED;
    if (ck.uncompressed_size != ck.records_len)
        return SCN_ERR_MCAP_FORMAT;
    if (ck.crc && (uint32_t)crc32_z(0, ck.records, ck.records_len) != ck.crc)
        return SCN_ERR_MCAP_CRC;
    while (pos < ck.records_len) {
        mcap_record in;

        if (!scn__mcap_record_at(ck.records + pos, ck.records_len - pos, &in)) {
            rc = SCN_ERR_MCAP_FORMAT;
            break;
        }
        if (in.opcode == MCAP_OP_MESSAGE)
            rc = add_message(r, &in, (uint64_t)(ck.records + pos - r->data));
        else if (in.opcode == MCAP_OP_SCHEMA)
            rc = add_schema(r, &in);
        else if (in.opcode == MCAP_OP_CHANNEL)
            rc = add_channel(r, &in);
        else
            rc = SCN_ERR_MCAP_FORMAT; /* nothing else belongs in a chunk */
        if (rc)
            break;
        pos += MCAP_PREFIX_LEN + in.len;
    }
    if (rc) {
        r->nmsg = keep_msgs;
        r->nschemas = keep_schemas;
        drop_channels(r, keep_ch);
        return rc;
    }
    r->info.chunk_count++;
    return 0;
}

/* Checks the summary and footer after DataEnd; data_end is where the
 * summary may start. A missing or cut footer means an unfinished file. */
static int read_summary(scn_recording *r, size_t data_end)
{
    size_t fpos, start, pos;
    mcap_record rec;
    mcap_footer f;
    int rc;

    if (r->size - data_end < MCAP_FOOTER_LEN + MCAP_MAGIC_LEN)
        return 0;
    fpos = r->size - MCAP_MAGIC_LEN - MCAP_FOOTER_LEN;
    if (memcmp(r->data + r->size - MCAP_MAGIC_LEN, MCAP_MAGIC,
               MCAP_MAGIC_LEN) != 0 ||
        !scn__mcap_record_at(r->data + fpos, MCAP_FOOTER_LEN, &rec) ||
        rec.opcode != MCAP_OP_FOOTER)
        return 0;
    if ((rc = scn__mcap_parse_footer(&rec, &f)))
        return rc;
    start = f.summary_start ? f.summary_start : fpos;
    if (start < data_end || start > fpos ||
        (f.summary_offset_start &&
         (f.summary_offset_start < start || f.summary_offset_start > fpos)))
        return SCN_ERR_MCAP_FORMAT;
    if (f.summary_crc && (uint32_t)crc32_z(0, r->data + start,
                                           fpos + MCAP_FOOTER_CRC_PREFIX -
                                               start) != f.summary_crc)
        return SCN_ERR_MCAP_CRC;
    for (pos = start; pos < fpos; pos += MCAP_PREFIX_LEN + rec.len) {
        mcap_statistics st;

        if (!scn__mcap_record_at(r->data + pos, fpos - pos, &rec))
            return SCN_ERR_MCAP_FORMAT;
        switch (rec.opcode) {
        case MCAP_OP_SCHEMA:
            rc = add_schema(r, &rec);
            break;
        case MCAP_OP_CHANNEL:
            rc = add_channel(r, &rec);
            break;
        case MCAP_OP_STATISTICS:
            rc = scn__mcap_parse_statistics(&rec, &st);
            if (!rc && (st.message_count != r->nmsg ||
                        st.chunk_count != r->info.chunk_count))
                rc = SCN_ERR_MCAP_FORMAT;
            break;
        default: /* indexes: the scan did not need them */
            rc = 0;
        }
        if (rc)
            return rc;
    }
    r->info.complete = 1;
    r->info.valid_bytes = r->size;
    return 0;
}

static int read_data_end(scn_recording *r, const mcap_record *rec, size_t pos)
{
    uint32_t crc;
    int rc;

    if ((rc = scn__mcap_parse_data_end(rec, &crc)))
        return rc;
    if (crc && (uint32_t)crc32_z(0, r->data, pos) != crc)
        return SCN_ERR_MCAP_CRC;
    return 0;
}

static int read_header(scn_recording *r, size_t *pos)
{
    mcap_header h;
    mcap_record rec;
    int rc;

    if (r->size < MCAP_MAGIC_LEN)
        return memcmp(r->data, MCAP_MAGIC, r->size) == 0
                   ? SCN_ERR_MCAP_TRUNCATED
                   : SCN_ERR_MCAP_FORMAT;
    if (memcmp(r->data, MCAP_MAGIC, MCAP_MAGIC_LEN) != 0)
        return SCN_ERR_MCAP_FORMAT;
    if (!scn__mcap_record_at(r->data + MCAP_MAGIC_LEN, r->size - MCAP_MAGIC_LEN,
                             &rec))
        return SCN_ERR_MCAP_TRUNCATED;
    if (rec.opcode != MCAP_OP_HEADER)
        return SCN_ERR_MCAP_FORMAT;
    if ((rc = scn__mcap_parse_header(&rec, &h)))
        return rc;
    r->profile = dup_n(h.profile.p, h.profile.len);
    r->library = dup_n(h.library.p, h.library.len);
    if (!r->profile || !r->library)
        return SCN_ERR_NOMEM;
    *pos = MCAP_MAGIC_LEN + MCAP_PREFIX_LEN + rec.len;
    return 0;
}

static int scan(scn_recording *r, unsigned flags)
{
    size_t pos;
    int rc;

    if ((rc = read_header(r, &pos)))
        return rc;
    r->info.valid_bytes = pos;
    for (;;) {
        mcap_record rec;

        if (!scn__mcap_record_at(r->data + pos, r->size - pos, &rec)) {
            r->info.truncated = 1;
            return 0;
        }
        switch (rec.opcode) {
        case MCAP_OP_SCHEMA:
            rc = add_schema(r, &rec);
            break;
        case MCAP_OP_CHANNEL:
            rc = add_channel(r, &rec);
            break;
        case MCAP_OP_MESSAGE:
            rc = add_message(r, &rec, pos);
            break;
        case MCAP_OP_CHUNK:
            rc = read_chunk(r, &rec);
            break;
        case MCAP_OP_MESSAGE_INDEX:
            rc = scn__mcap_check_message_index(&rec);
            break;
        case MCAP_OP_DATA_END:
            rc = read_data_end(r, &rec, pos);
            break;
        case 0x00: /* reserved: zeros where data should be */
        case MCAP_OP_HEADER:
        case MCAP_OP_FOOTER: /* a footer needs DataEnd before it */
            rc = SCN_ERR_MCAP_FORMAT;
            break;
        default: /* attachments, metadata, records of later versions */
            rc = 0;
        }
        if (rc) {
            if ((flags & SCN_RECORDING_SALVAGE) && rc != SCN_ERR_NOMEM) {
                r->info.salvaged = 1;
                return 0;
            }
            return rc;
        }
        pos += MCAP_PREFIX_LEN + rec.len;
        r->info.valid_bytes = pos;
        if (rec.opcode == MCAP_OP_DATA_END)
            break;
    }
    rc = read_summary(r, pos);
    if (rc && (flags & SCN_RECORDING_SALVAGE) && rc != SCN_ERR_NOMEM) {
        r->info.salvaged = 1; /* the data section is fine: keep it */
        return 0;
    }
    if (!rc && !r->info.complete)
        r->info.truncated = 1;
    return rc;
}

static int cmp_ref(const void *a, const void *b)
{
    const msgref *x = a, *y = b;

    if (x->log_time != y->log_time)
        return x->log_time < y->log_time ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int cmp_channel(const void *a, const void *b)
{
    const scn_recording_channel *x = a, *y = b;

    return (int)x->id - (int)y->id;
}

/* Sorts messages by time and channels by id, and counts per channel. */
static void index_messages(scn_recording *r)
{
    for (size_t i = 1; i < r->nmsg; i++) {
        if (r->msgs[i].log_time < r->msgs[i - 1].log_time) {
            qsort(r->msgs, r->nmsg, sizeof(*r->msgs), cmp_ref);
            break;
        }
    }
    if (r->nch > 1)
        qsort(r->ch, r->nch, sizeof(*r->ch), cmp_channel);
    for (size_t i = 0; i < r->nch; i++)
        r->slot[r->ch[i].id] = (uint32_t)(i + 1);
    for (size_t i = 0; i < r->nmsg; i++) {
        const uint8_t *m = r->data + r->msgs[i].offset + MCAP_PREFIX_LEN;
        scn_recording_channel *c = &r->ch[r->slot[mcap_get_u16(m)] - 1];

        if (!c->message_count++)
            c->start_ns = r->msgs[i].log_time;
        c->end_ns = r->msgs[i].log_time;
    }
    r->info.message_count = r->nmsg;
    r->info.channel_count = r->nch;
    if (r->nmsg) {
        r->info.start_ns = r->msgs[0].log_time;
        r->info.end_ns = r->msgs[r->nmsg - 1].log_time;
    }
    r->info.profile = r->profile;
    r->info.library = r->library;
    r->info.file_bytes = r->size;
}

int scn_recording_open_memory(const void *data, size_t len, unsigned flags,
                              scn_recording **out)
{
    scn_recording *r;
    int rc;

    if (!out || (!data && len))
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    if (!(r = calloc(1, sizeof(*r))) ||
        !(r->slot = calloc(65536, sizeof(*r->slot)))) {
        free(r);
        return SCN_ERR_NOMEM;
    }
    r->data = data ? data : (const uint8_t *)"";
    r->size = len;
    if ((rc = scan(r, flags))) {
        scn_recording_close(r);
        return rc;
    }
    index_messages(r);
    *out = r;
    return 0;
}

int scn_recording_open(const char *path, unsigned flags, scn_recording **out)
{
    struct stat st;
    void *map = NULL;
    int fd, rc, saved;

    if (!path || !out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return scn_err_from_errno(errno);
    if (fstat(fd, &st) != 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return SCN_ERR_IO;
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        /* Larger than this process can map (a recording over 4 GiB on a
         * 32-bit board): say so rather than read a truncated view. */
        close(fd);
        errno = EOVERFLOW;
        return SCN_ERR_IO;
    }
    if (st.st_size > 0) {
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            saved = errno;
            close(fd);
            errno = saved;
            return SCN_ERR_IO;
        }
        madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
    }
    close(fd);
    rc = scn_recording_open_memory(map, (size_t)st.st_size, flags, out);
    if (rc) {
        if (map)
            munmap(map, (size_t)st.st_size);
        return rc;
    }
    (*out)->map = map;
    return 0;
}

void scn_recording_close(scn_recording *r)
{
    if (!r)
        return;
    drop_channels(r, 0);
    if (r->map)
        munmap(r->map, r->size);
    free(r->ch);
    free(r->schemas);
    free(r->slot);
    free(r->msgs);
    free(r->profile);
    free(r->library);
    free(r);
}

void scn_recording_get_info(const scn_recording *r, scn_recording_info *out)
{
    if (!out)
        return;
    if (!r) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = r->info;
}

const scn_recording_channel *scn_recording_channel_at(const scn_recording *r,
                                                      size_t index)
{
    return r && index < r->nch ? &r->ch[index] : NULL;
}

const scn_recording_channel *scn_recording_find_channel(const scn_recording *r,
                                                        const char *topic)
{
    if (!r || !topic)
        return NULL;
    for (size_t i = 0; i < r->nch; i++)
        if (strcmp(r->ch[i].topic, topic) == 0)
            return &r->ch[i];
    return NULL;
}

int scn_recording_next(scn_recording *r, scn_recording_message *msg)
{
    mcap_record rec;
    mcap_message m;
    const uint8_t *p;

    if (!r || !msg || r->next >= r->nmsg)
        return 0;
    p = r->data + r->msgs[r->next++].offset;
    /* Checked during the scan; cannot fail now. */
    scn__mcap_record_at(p, r->size - (size_t)(p - r->data), &rec);
    scn__mcap_parse_message(&rec, &m);
    msg->channel = &r->ch[r->slot[m.channel_id] - 1];
    msg->sequence = m.sequence;
    msg->log_time_ns = m.log_time;
    msg->publish_time_ns = m.publish_time;
    msg->data = (const char *)m.data;
    msg->len = m.len;
    return 1;
}

void scn_recording_rewind(scn_recording *r)
{
    if (r)
        r->next = 0;
}
