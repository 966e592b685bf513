/* Event log and human messages. */
#include "simlog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <scentience/log.h>

static FILE *log_file;
static int log_quiet;

int simlog_open(const char *path, int quiet)
{
    log_quiet = quiet;
    if (!path)
        return 0;
    log_file = fopen(path, "a");
    if (!log_file) {
        simlog_error("cannot open log %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

void simlog_close(void)
{
    if (log_file)
        fclose(log_file);
    log_file = NULL;
}

void simlog_timestamp(char out[SIMLOG_TS_SIZE])
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(out, SIMLOG_TS_SIZE, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, SIMLOG_TS_SIZE - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

cJSON *simlog_event(const char *name)
{
    char ts[SIMLOG_TS_SIZE];
    cJSON *ev = cJSON_CreateObject();

    simlog_timestamp(ts);
    cJSON_AddStringToObject(ev, "ts", ts);
    cJSON_AddStringToObject(ev, "event", name);
    return ev;
}

void simlog_emit(cJSON *ev)
{
    char *text;

    if (!ev)
        return;
    if (log_file) {
        text = cJSON_PrintUnformatted(ev);
        if (text) {
            /* One line per event, flushed at once: tests tail the file. */
            fprintf(log_file, "%s\n", text);
            fflush(log_file);
            free(text);
        }
    }
    cJSON_Delete(ev);
}

static void vline(const char *fmt, va_list ap)
{
    char line[512], esc[4 * sizeof(line)];
    int n = vsnprintf(line, sizeof(line), fmt, ap);

    /* Lines may quote what a client sent: escaped (scn_escape_text). */
    if (n < 0)
        return;
    scn_escape_text(esc, sizeof(esc), line,
                    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    fprintf(stderr, "scn-sim: %s\n", esc);
}

void simlog_info(const char *fmt, ...)
{
    va_list ap;

    if (log_quiet)
        return;
    va_start(ap, fmt);
    vline(fmt, ap);
    va_end(ap);
}

void simlog_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vline(fmt, ap);
    va_end(ap);
}

void simlog_stopping(const char *why)
{
    cJSON *ev = simlog_event("stopping");

    cJSON_AddStringToObject(ev, "why", why);
    simlog_emit(ev);
    simlog_info("stopping (%s)", why);
}
