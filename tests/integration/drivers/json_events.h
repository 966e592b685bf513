/*
 * The test drivers' output: one JSON object per line on stdout, each with
 * "t", the wall-clock time in seconds (CLOCK_REALTIME, the clock of
 * scn-sim's log), and "event", its name.
 */
#ifndef SCN_TEST_JSON_EVENTS_H
#define SCN_TEST_JSON_EVENTS_H

#include <cjson/cJSON.h>

/* A new event object named name, stamped now. */
cJSON *json_event(const char *name);
/* Prints ev as one line, flushes, frees it. */
void json_event_emit(cJSON *ev);

#endif
