/* The test drivers' output (json_events.h). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "json_events.h"

cJSON *json_event(const char *name)
{
    struct timespec ts;
    cJSON *ev = cJSON_CreateObject();

    clock_gettime(CLOCK_REALTIME, &ts);
    cJSON_AddNumberToObject(ev, "t",
                            (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
    cJSON_AddStringToObject(ev, "event", name);
    return ev;
}

void json_event_emit(cJSON *ev)
{
    char *text = cJSON_PrintUnformatted(ev);

    if (text) {
        printf("%s\n", text);
        fflush(stdout);
        free(text);
    }
    cJSON_Delete(ev);
}
