/* MCAP record encoding and bounds-checked decoding; see mcap_format.h. */
#include "mcap_format.h"

#include <stdlib.h>
#include <string.h>

#include <scentience/error.h>

void scn__mcap_chunk_head(uint8_t *p, uint64_t start, uint64_t end,
                          uint64_t records_len, uint32_t crc)
{
    p[0] = MCAP_OP_CHUNK;
    mcap_put_u64(p + 1, MCAP_CHUNK_HEAD_LEN - MCAP_PREFIX_LEN + records_len);
    mcap_put_u64(p + 9, start);
    mcap_put_u64(p + 17, end);
    mcap_put_u64(p + 25, records_len); /* uncompressed size */
    mcap_put_u32(p + 33, crc);
    mcap_put_u32(p + 37, 0); /* compression "" */
    mcap_put_u64(p + 41, records_len);
}

void scn__mcap_footer_record(uint8_t *p, uint64_t summary_start,
                             uint64_t summary_offset_start,
                             uint32_t summary_crc)
{
    p[0] = MCAP_OP_FOOTER;
    mcap_put_u64(p + 1, MCAP_FOOTER_LEN - MCAP_PREFIX_LEN);
    mcap_put_u64(p + 9, summary_start);
    mcap_put_u64(p + 17, summary_offset_start);
    mcap_put_u32(p + 25, summary_crc);
}

int scn__mcap_buf_reserve(mcap_buf *b, size_t extra)
{
    size_t cap;
    uint8_t *p;

    if (b->cap - b->len >= extra)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len)
        return SCN_ERR_NOMEM;
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p)
        return SCN_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

void scn__mcap_buf_free(mcap_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

/* The encoders reserve the whole record first, then fill it through a
 * cursor that cannot fail. */
static uint8_t *begin(mcap_buf *b, uint8_t opcode, size_t body)
{
    uint8_t *p;

    if (scn__mcap_buf_reserve(b, MCAP_PREFIX_LEN + body) != 0)
        return NULL;
    p = b->data + b->len;
    p[0] = opcode;
    mcap_put_u64(p + 1, body);
    b->len += MCAP_PREFIX_LEN + body;
    return p + MCAP_PREFIX_LEN;
}

static uint8_t *put_str(uint8_t *p, const char *s, size_t len)
{
    mcap_put_u32(p, (uint32_t)len);
    if (len)
        memcpy(p + 4, s, len);
    return p + 4 + len;
}

int scn__mcap_put_header(mcap_buf *b, const char *profile, const char *library)
{
    size_t lp = strlen(profile), ll = strlen(library);
    uint8_t *p = begin(b, MCAP_OP_HEADER, 8 + lp + ll);

    if (!p)
        return SCN_ERR_NOMEM;
    put_str(put_str(p, profile, lp), library, ll);
    return 0;
}

int scn__mcap_put_schema(mcap_buf *b, uint16_t id, const char *name,
                         const char *encoding, const void *data, size_t len)
{
    size_t ln = strlen(name), le = strlen(encoding);
    uint8_t *p = begin(b, MCAP_OP_SCHEMA, 2 + 4 + ln + 4 + le + 4 + len);

    if (!p)
        return SCN_ERR_NOMEM;
    mcap_put_u16(p, id);
    put_str(put_str(put_str(p + 2, name, ln), encoding, le), data, len);
    return 0;
}

int scn__mcap_put_channel(mcap_buf *b, uint16_t id, uint16_t schema_id,
                          const char *topic, const char *message_encoding)
{
    size_t lt = strlen(topic), le = strlen(message_encoding);
    uint8_t *p = begin(b, MCAP_OP_CHANNEL, 4 + 4 + lt + 4 + le + 4);

    if (!p)
        return SCN_ERR_NOMEM;
    mcap_put_u16(p, id);
    mcap_put_u16(p + 2, schema_id);
    p = put_str(put_str(p + 4, topic, lt), message_encoding, le);
    mcap_put_u32(p, 0); /* no metadata */
    return 0;
}

int scn__mcap_put_message_index(mcap_buf *b, uint16_t channel_id,
                                const uint8_t *entries, size_t n)
{
    size_t bytes = n * MCAP_INDEX_ENTRY_LEN;
    uint8_t *p = begin(b, MCAP_OP_MESSAGE_INDEX, 2 + 4 + bytes);

    if (!p)
        return SCN_ERR_NOMEM;
    mcap_put_u16(p, channel_id);
    mcap_put_u32(p + 2, (uint32_t)bytes);
    if (bytes)
        memcpy(p + 6, entries, bytes);
    return 0;
}

int scn__mcap_put_chunk_index(mcap_buf *b, const mcap_chunk_index *ci)
{
    size_t map = ci->index_count * 10;
    uint8_t *p = begin(b, MCAP_OP_CHUNK_INDEX, 32 + 4 + map + 8 + 4 + 16);

    if (!p)
        return SCN_ERR_NOMEM;
    mcap_put_u64(p, ci->start);
    mcap_put_u64(p + 8, ci->end);
    mcap_put_u64(p + 16, ci->chunk_offset);
    mcap_put_u64(p + 24, ci->chunk_length);
    mcap_put_u32(p + 32, (uint32_t)map);
    p += 36;
    for (size_t i = 0; i < ci->index_count; i++, p += 10) {
        mcap_put_u16(p, ci->index_channels[i]);
        mcap_put_u64(p + 2, ci->index_offsets[i]);
    }
    mcap_put_u64(p, ci->index_length);
    mcap_put_u32(p + 8, 0); /* compression "" */
    mcap_put_u64(p + 12, ci->records_len);
    mcap_put_u64(p + 20, ci->records_len);
    return 0;
}

int scn__mcap_put_statistics(mcap_buf *b, const mcap_statistics *st)
{
    size_t map = st->channels * 10;
    uint8_t *p = begin(b, MCAP_OP_STATISTICS, 8 + 2 + 16 + 16 + 4 + map);

    if (!p)
        return SCN_ERR_NOMEM;
    mcap_put_u64(p, st->message_count);
    mcap_put_u16(p + 8, st->schema_count);
    mcap_put_u32(p + 10, st->channel_count);
    mcap_put_u32(p + 14, st->attachment_count);
    mcap_put_u32(p + 18, st->metadata_count);
    mcap_put_u32(p + 22, st->chunk_count);
    mcap_put_u64(p + 26, st->start);
    mcap_put_u64(p + 34, st->end);
    mcap_put_u32(p + 42, (uint32_t)map);
    p += 46;
    for (size_t i = 0; i < st->channels; i++, p += 10) {
        mcap_put_u16(p, st->channel_ids[i]);
        mcap_put_u64(p + 2, st->channel_counts[i]);
    }
    return 0;
}

int scn__mcap_put_data_end(mcap_buf *b, uint32_t crc)
{
    uint8_t *p = begin(b, MCAP_OP_DATA_END, 4);

    if (!p)
        return SCN_ERR_NOMEM;
    mcap_put_u32(p, crc);
    return 0;
}

int scn__mcap_put_summary_offset(mcap_buf *b, uint8_t opcode, uint64_t start,
                                 uint64_t length)
{
    uint8_t *p = begin(b, MCAP_OP_SUMMARY_OFFSET, 17);

    if (!p)
        return SCN_ERR_NOMEM;
    p[0] = opcode;
    mcap_put_u64(p + 1, start);
    mcap_put_u64(p + 9, length);
    return 0;
}

int scn__mcap_record_at(const uint8_t *p, size_t avail, mcap_record *r)
{
    uint64_t len;

    if (avail < MCAP_PREFIX_LEN)
        return 0;
    len = mcap_get_u64(p + 1);
    if (len > avail - MCAP_PREFIX_LEN)
        return 0;
    r->opcode = p[0];
    r->body = p + MCAP_PREFIX_LEN;
    r->len = len;
    return 1;
}

/* A reading cursor over one record body; any read past its end marks it
 * bad, and the parser checks once at the end. */
typedef struct cursor {
    const uint8_t *p;
    uint64_t left;
    int bad;
} cursor;

static const uint8_t *take(cursor *c, uint64_t n)
{
    const uint8_t *p = c->p;

    if (c->bad || n > c->left) {
        c->bad = 1;
        return NULL;
    }
    c->p += n;
    c->left -= n;
    return p;
}

static uint16_t get16(cursor *c)
{
    const uint8_t *p = take(c, 2);

    return p ? mcap_get_u16(p) : 0;
}

static uint32_t get32(cursor *c)
{
    const uint8_t *p = take(c, 4);

    return p ? mcap_get_u32(p) : 0;
}

static uint64_t get64(cursor *c)
{
    const uint8_t *p = take(c, 8);

    return p ? mcap_get_u64(p) : 0;
}

/* A u32-length-prefixed byte run: strings, maps, arrays, schema data. */
static const uint8_t *get_bytes32(cursor *c, size_t *len)
{
    uint32_t n = get32(c);
    const uint8_t *p = take(c, n);

    *len = p ? n : 0;
    return p;
}

static void get_str(cursor *c, mcap_str *s)
{
    s->p = (const char *)get_bytes32(c, &s->len);
}

static cursor open_body(const mcap_record *r)
{
    cursor c = {r->body, r->len, 0};

    return c;
}

static int done(const cursor *c)
{
    return c->bad ? SCN_ERR_MCAP_FORMAT : 0;
}

int scn__mcap_parse_header(const mcap_record *r, mcap_header *out)
{
    cursor c = open_body(r);

    get_str(&c, &out->profile);
    get_str(&c, &out->library);
    return done(&c);
}

int scn__mcap_parse_schema(const mcap_record *r, mcap_schema *out)
{
    cursor c = open_body(r);

    out->id = get16(&c);
    get_str(&c, &out->name);
    get_str(&c, &out->encoding);
    out->data = get_bytes32(&c, &out->len);
    return done(&c);
}

/* A map<string,string>: whole key and value strings to its end. */
static void check_string_map(cursor *c)
{
    size_t len;
    const uint8_t *p = get_bytes32(c, &len);
    cursor m = {p, len, c->bad};

    while (!m.bad && m.left > 0) {
        mcap_str s;

        get_str(&m, &s);
        get_str(&m, &s);
    }
    c->bad |= m.bad;
}

int scn__mcap_parse_channel(const mcap_record *r, mcap_channel *out)
{
    cursor c = open_body(r);

    out->id = get16(&c);
    out->schema_id = get16(&c);
    get_str(&c, &out->topic);
    get_str(&c, &out->message_encoding);
    check_string_map(&c);
    return done(&c);
}

int scn__mcap_parse_message(const mcap_record *r, mcap_message *out)
{
    cursor c = open_body(r);

    out->channel_id = get16(&c);
    out->sequence = get32(&c);
    out->log_time = get64(&c);
    out->publish_time = get64(&c);
    out->data = c.p;
    out->len = c.bad ? 0 : (size_t)c.left;
    return done(&c);
}

int scn__mcap_parse_chunk(const mcap_record *r, mcap_chunk *out)
{
    cursor c = open_body(r);

    out->start = get64(&c);
    out->end = get64(&c);
    out->uncompressed_size = get64(&c);
    out->crc = get32(&c);
    get_str(&c, &out->compression);
    out->records_len = get64(&c);
    out->records = take(&c, out->records_len);
    return done(&c);
}

int scn__mcap_parse_statistics(const mcap_record *r, mcap_statistics *out)
{
    cursor c = open_body(r);

    memset(out, 0, sizeof(*out));
    out->message_count = get64(&c);
    out->schema_count = get16(&c);
    out->channel_count = get32(&c);
    out->attachment_count = get32(&c);
    out->metadata_count = get32(&c);
    out->chunk_count = get32(&c);
    out->start = get64(&c);
    out->end = get64(&c);
    out->map = get_bytes32(&c, &out->map_len);
    if (out->map_len % 10)
        c.bad = 1;
    out->channels = out->map_len / 10;
    return done(&c);
}

int scn__mcap_parse_footer(const mcap_record *r, mcap_footer *out)
{
    cursor c = open_body(r);

    out->summary_start = get64(&c);
    out->summary_offset_start = get64(&c);
    out->summary_crc = get32(&c);
    return done(&c);
}

int scn__mcap_parse_data_end(const mcap_record *r, uint32_t *crc)
{
    cursor c = open_body(r);

    *crc = get32(&c);
    return done(&c);
}

int scn__mcap_check_message_index(const mcap_record *r)
{
    cursor c = open_body(r);
    size_t len;

    get16(&c);
    get_bytes32(&c, &len);
    if (len % MCAP_INDEX_ENTRY_LEN)
        c.bad = 1;
    return done(&c);
}
