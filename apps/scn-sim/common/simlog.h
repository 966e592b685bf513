/*
 * The simulator's two outputs besides the wire: an event log for tests
 * (--log FILE: one JSON object per line, flushed per line) and short human
 * lines on stderr (unless --quiet). Neither ever carries a key: callers pass
 * a key's name.
 */
#ifndef SCN_SIM_LOG_H
#define SCN_SIM_LOG_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define SIMLOG_TS_SIZE 32

/* path NULL: no event log. Returns 0, or -1 (message printed). */
int simlog_open(const char *path, int quiet);
void simlog_close(void);

/* A new event object {"ts":"...","event":name}; add members, then emit.
 * May return NULL when out of memory: the cJSON_Add* calls accept it. */
cJSON *simlog_event(const char *name);
/* Writes (when a log is open) and frees the event. */
void simlog_emit(cJSON *ev);

/* "scn-sim: ..." on stderr unless quiet. */
void simlog_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "scn-sim: ..." on stderr, even when quiet. */
void simlog_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The "stopping" event and stderr line (why: "signal", "duration"...). */
void simlog_stopping(const char *why);

/* UTC now as ISO-8601 with milliseconds: "2025-08-29T21:00:00.123Z". */
void simlog_timestamp(char out[SIMLOG_TS_SIZE]);

#endif
