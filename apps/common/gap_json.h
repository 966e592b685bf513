/*
 * The /events message for a stream discontinuity (frames resumed on a new
 * connection: the hole no seq gap shows), shared by scn-companion and
 * scn-record so that both record the same event (schema in
 * lib/mcap/recorder_schemas.c), and the sentence people read about it.
 */
#ifndef SCN_APP_GAP_JSON_H
#define SCN_APP_GAP_JSON_H

#include <stddef.h>

#include <scentience/session.h>

/* {"event":"discontinuity","source":SOURCE,"gap_ms":..,"reconnects":..,
 * "last_seq":..,"first_seq":..,"last_timestamp":"..","first_timestamp":
 * "..","detail":".."}; seqs and timestamps only when known. Returns the
 * length (NUL-terminated), or 0 when it does not fit in cap. */
size_t gap_event_json(char *buf, size_t cap, const char *source,
                      const scn_discontinuity *d);

/* "stream discontinuous: 12.3 s without frames across 1 reconnect"
 * into buf (always NUL-terminated). */
void gap_sentence(char *buf, size_t cap, const scn_discontinuity *d);

#endif
