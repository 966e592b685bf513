/* Flight scripts for scn-uav: one command per line, "# comments",
 * "wait S" pauses. Every command is validated when the script is read. */
#ifndef SCN_APP_FLIGHT_SCRIPT_H
#define SCN_APP_FLIGHT_SCRIPT_H

#include <scentience/uav.h>
#include <stddef.h>

typedef struct script_step {
    int is_wait;
    double wait_s;
    scn_uav_cmd cmd;
    unsigned lineno;
} script_step;

typedef struct script {
    script_step *steps;
    size_t count, cap;
} script;

/* Returns 0, or -1 with a sentence in why (validation, syntax, memory). */
int script_add_line(script *sc, const char *text, unsigned lineno, char *why,
                    size_t why_cap);
/* Returns 0, -1 as script_add_line (a line of the file), or
 * SCRIPT_UNREADABLE with why "cannot read: <cause>". */
#define SCRIPT_UNREADABLE (-2)
int script_load_file(script *sc, const char *path, char *why, size_t why_cap);
void script_free(script *sc);

#endif
