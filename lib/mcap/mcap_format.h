/*
 * MCAP record layout (https://mcap.dev/spec), shared by the writer and the
 * reader: opcodes, little-endian fields, encoders appending whole records
 * to a growing buffer, and bounds-checked parsers of record bodies.
 *
 * A record is opcode (u8), body length (u64) and body. Strings are a u32
 * byte length and bytes (no NUL); maps and arrays a u32 byte length and
 * their entries. Every integer is little-endian.
 */
#ifndef SCN_MCAP_FORMAT_H
#define SCN_MCAP_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define MCAP_MAGIC     "\x89MCAP0\r\n"
#define MCAP_MAGIC_LEN 8

enum mcap_opcode {
    MCAP_OP_HEADER = 0x01,
    MCAP_OP_FOOTER = 0x02,
    MCAP_OP_SCHEMA = 0x03,
    MCAP_OP_CHANNEL = 0x04,
    MCAP_OP_MESSAGE = 0x05,
    MCAP_OP_CHUNK = 0x06,
    MCAP_OP_MESSAGE_INDEX = 0x07,
    MCAP_OP_CHUNK_INDEX = 0x08,
    MCAP_OP_ATTACHMENT = 0x09,
    MCAP_OP_ATTACHMENT_INDEX = 0x0A,
    MCAP_OP_STATISTICS = 0x0B,
    MCAP_OP_METADATA = 0x0C,
    MCAP_OP_METADATA_INDEX = 0x0D,
    MCAP_OP_SUMMARY_OFFSET = 0x0E,
    MCAP_OP_DATA_END = 0x0F
};

/* Opcode and body length in front of every record. */
#define MCAP_PREFIX_LEN 9
/* Message record up to its data: prefix, channel id, sequence, log time,
 * publish time. */
#define MCAP_MESSAGE_HEAD_LEN (MCAP_PREFIX_LEN + 2 + 4 + 8 + 8)
/* Chunk record up to its records, for compression "": prefix, start and
 * end time, uncompressed size, CRC, empty compression, records length. */
#define MCAP_CHUNK_HEAD_LEN (MCAP_PREFIX_LEN + 8 + 8 + 8 + 4 + 4 + 8)
/* A whole Footer record, and the part of it the summary CRC covers. */
#define MCAP_FOOTER_LEN        (MCAP_PREFIX_LEN + 8 + 8 + 4)
#define MCAP_FOOTER_CRC_PREFIX (MCAP_PREFIX_LEN + 8 + 8)
#define MCAP_DATA_END_LEN      (MCAP_PREFIX_LEN + 4)
/* One MessageIndex entry: log time, offset in the chunk's records. */
#define MCAP_INDEX_ENTRY_LEN 16

static inline void mcap_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void mcap_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void mcap_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t mcap_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t mcap_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t mcap_get_u64(const uint8_t *p)
{
    return (uint64_t)mcap_get_u32(p) | (uint64_t)mcap_get_u32(p + 4) << 32;
}

/* Writes a Message record's head (MCAP_MESSAGE_HEAD_LEN bytes); the data
 * (len bytes) follows it. */
static inline void mcap_message_head(uint8_t *p, uint16_t channel_id,
                                     uint32_t sequence, uint64_t log_time,
                                     uint64_t publish_time, size_t len)
{
    p[0] = MCAP_OP_MESSAGE;
    mcap_put_u64(p + 1, (uint64_t)len + 22);
    mcap_put_u16(p + 9, channel_id);
    mcap_put_u32(p + 11, sequence);
    mcap_put_u64(p + 15, log_time);
    mcap_put_u64(p + 23, publish_time);
}

/* Writes an uncompressed Chunk record's head (MCAP_CHUNK_HEAD_LEN bytes);
 * records_len bytes of records follow it. */
void scn__mcap_chunk_head(uint8_t *p, uint64_t start, uint64_t end,
                          uint64_t records_len, uint32_t crc);

/* Writes a Footer record (MCAP_FOOTER_LEN bytes). */
void scn__mcap_footer_record(uint8_t *p, uint64_t summary_start,
                             uint64_t summary_offset_start,
                             uint32_t summary_crc);

/* A growing byte buffer. */
typedef struct mcap_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} mcap_buf;

/* Makes room for extra more bytes. Returns 0 or SCN_ERR_NOMEM. */
int scn__mcap_buf_reserve(mcap_buf *b, size_t extra);
void scn__mcap_buf_free(mcap_buf *b);

/* Record encoders: append one whole record. Return 0 or SCN_ERR_NOMEM. */
int scn__mcap_put_header(mcap_buf *b, const char *profile, const char *library);
int scn__mcap_put_schema(mcap_buf *b, uint16_t id, const char *name,
                         const char *encoding, const void *data, size_t len);
int scn__mcap_put_channel(mcap_buf *b, uint16_t id, uint16_t schema_id,
                          const char *topic, const char *message_encoding);
/* entries: n encoded MessageIndex entries (MCAP_INDEX_ENTRY_LEN each). */
int scn__mcap_put_message_index(mcap_buf *b, uint16_t channel_id,
                                const uint8_t *entries, size_t n);

typedef struct mcap_chunk_index {
    uint64_t start, end;   /* message log times */
    uint64_t chunk_offset; /* file offset of the Chunk record */
    uint64_t chunk_length; /* whole Chunk record */
    size_t index_count;    /* MessageIndex records after the chunk */
    const uint16_t *index_channels;
    const uint64_t *index_offsets; /* their file offsets */
    uint64_t index_length;         /* their total length */
    uint64_t records_len;          /* compressed = uncompressed size */
} mcap_chunk_index;

int scn__mcap_put_chunk_index(mcap_buf *b, const mcap_chunk_index *ci);

typedef struct mcap_statistics {
    uint64_t message_count;
    uint16_t schema_count;
    uint32_t channel_count;
    uint32_t attachment_count;
    uint32_t metadata_count;
    uint32_t chunk_count;
    uint64_t start, end;
    /* Writing: counts per channel id. Reading: the encoded map. */
    size_t channels;
    const uint16_t *channel_ids;
    const uint64_t *channel_counts;
    const uint8_t *map;
    size_t map_len;
} mcap_statistics;

int scn__mcap_put_statistics(mcap_buf *b, const mcap_statistics *st);
int scn__mcap_put_data_end(mcap_buf *b, uint32_t crc);
int scn__mcap_put_summary_offset(mcap_buf *b, uint8_t opcode, uint64_t start,
                                 uint64_t length);

/* Parsing. A record located in a byte range. */
typedef struct mcap_record {
    uint8_t opcode;
    const uint8_t *body;
    uint64_t len;
} mcap_record;

/* Locates the record at p (avail bytes). Returns 1 and fills *r when the
 * whole record is there, 0 when it is cut short. */
int scn__mcap_record_at(const uint8_t *p, size_t avail, mcap_record *r);

typedef struct mcap_str {
    const char *p;
    size_t len;
} mcap_str;

typedef struct mcap_header {
    mcap_str profile, library;
} mcap_header;

typedef struct mcap_schema {
    uint16_t id;
    mcap_str name, encoding;
    const uint8_t *data;
    size_t len;
} mcap_schema;

typedef struct mcap_channel {
    uint16_t id, schema_id;
    mcap_str topic, message_encoding;
} mcap_channel;

typedef struct mcap_message {
    uint16_t channel_id;
    uint32_t sequence;
    uint64_t log_time, publish_time;
    const uint8_t *data;
    size_t len;
} mcap_message;

typedef struct mcap_chunk {
    uint64_t start, end, uncompressed_size;
    uint32_t crc;
    mcap_str compression;
    const uint8_t *records;
    uint64_t records_len;
} mcap_chunk;

typedef struct mcap_footer {
    uint64_t summary_start, summary_offset_start;
    uint32_t summary_crc;
} mcap_footer;

/* Body parsers: each checks every length against the record's body and
 * returns 0 or SCN_ERR_MCAP_FORMAT. */
int scn__mcap_parse_header(const mcap_record *r, mcap_header *out);
int scn__mcap_parse_schema(const mcap_record *r, mcap_schema *out);
int scn__mcap_parse_channel(const mcap_record *r, mcap_channel *out);
int scn__mcap_parse_message(const mcap_record *r, mcap_message *out);
int scn__mcap_parse_chunk(const mcap_record *r, mcap_chunk *out);
int scn__mcap_parse_statistics(const mcap_record *r, mcap_statistics *out);
int scn__mcap_parse_footer(const mcap_record *r, mcap_footer *out);
int scn__mcap_parse_data_end(const mcap_record *r, uint32_t *crc);
/* Checks a MessageIndex body: a channel id and whole entries. */
int scn__mcap_check_message_index(const mcap_record *r);

#endif
