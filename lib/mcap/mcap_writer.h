/*
 * Recorder entry points that keep what another MCAP file said: any
 * encodings and the original sequence numbers. Recovery rewrites a killed
 * recording with them; the public API fixes "json" and "jsonschema".
 */
#ifndef SCN_MCAP_WRITER_H
#define SCN_MCAP_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include <scentience/recorder.h>

/* Adds a channel; a schema with empty name, encoding and data means none
 * (schema id 0). Returns as scn_recorder_add_channel(). */
int scn__recorder_add_channel_raw(scn_recorder *rec, const char *topic,
                                  const char *message_encoding,
                                  const char *schema_name,
                                  const char *schema_encoding,
                                  const void *schema, size_t schema_len,
                                  uint16_t *channel_id);

/* scn_recorder_write() with the message's sequence number given. */
int scn__recorder_write_seq(scn_recorder *rec, uint16_t channel_id,
                            uint32_t sequence, uint64_t log_time_ns,
                            uint64_t publish_time_ns, const void *data,
                            size_t len);

/* MCAP reserves opcodes 0x80-0xFF for private records. */
#define MCAP_OP_PRIVATE_HOLE 0x80

/*
 * Tests only: closes the open chunk and writes a private record (opcode
 * MCAP_OP_PRIVATE_HOLE, which readers skip) whose body_len bytes are a
 * hole in the file, so that a test reaches file offsets past 4 GiB
 * without writing 4 GiB. The data section CRC covers the zeros.
 */
int scn__recorder_write_hole(scn_recorder *rec, uint64_t body_len);

#endif
