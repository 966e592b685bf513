/* Flight scripts for scn-uav and scn-companion: commands from argv or a
 * file. */
#include "flight_script.h"

#include <errno.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scentience/error.h>

#include "cli.h"

static int add(script *sc, const script_step *st)
{
    if (sc->count == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 16;
        script_step *ns = realloc(sc->steps, cap * sizeof(*ns));
        if (!ns)
            return -1;
        sc->steps = ns;
        sc->cap = cap;
    }
    sc->steps[sc->count++] = *st;
    return 0;
}

/* One line: a command (validated now, so that nothing is sent when any
 * line is wrong), "wait S", a comment or blank. */
int script_add_line(script *sc, const char *text, unsigned lineno, char *why,
                    size_t why_cap)
{
    script_step st;
    char msg[256];
    size_t len;

    while (*text == ' ' || *text == '\t')
        text++;
    len = strcspn(text, "#\r\n");
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    if (len == 0)
        return 0;
    memset(&st, 0, sizeof(st));
    st.lineno = lineno;
    if (len > 5 && strncmp(text, "wait ", 5) == 0) {
        char num[32];
        if (len - 5 >= sizeof(num))
            goto bad_wait;
        memcpy(num, text + 5, len - 5);
        num[len - 5] = '\0';
        if (cli_parse_double(num, 0, 3600, &st.wait_s))
            goto bad_wait;
        st.is_wait = 1;
        return add(sc, &st) ? -1 : 0;
    }
    if (scn_uav_cmd_parse(text, len, &st.cmd, msg, sizeof(msg)) != 0) {
        snprintf(why, why_cap, "line %u: %s", lineno, msg);
        return -1;
    }
    return add(sc, &st) ? -1 : 0;
bad_wait:
    snprintf(why, why_cap, "line %u: wait takes seconds (0-3600)", lineno);
    return -1;
}

int script_load_file(script *sc, const char *path, char *why, size_t why_cap)
{
    FILE *f = fopen(path, "r");
    char line[512];
    unsigned n = 0;

    if (!f) {
        snprintf(why, why_cap, "cannot read: %s",
                 scn_strerror(scn_err_from_errno(errno)));
        return SCRIPT_UNREADABLE;
    }
    while (fgets(line, sizeof(line), f)) {
        n++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(why, why_cap, "line %u: too long", n);
            fclose(f);
            return -1;
        }
        if (script_add_line(sc, line, n, why, why_cap) != 0) {
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

void script_free(script *sc)
{
    free(sc->steps);
    memset(sc, 0, sizeof(*sc));
}
