/*
 * The live table on stdout: on a terminal redrawn in place every table
 * interval; otherwise (a pipe, a log, a test) printed as a block each
 * interval, a heading line, the header and one row per drone, sorted by
 * id, then an empty line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "station.h"

static int by_id(const void *x, const void *y)
{
    return strcmp(((const scn_fleet_drone *)x)->id,
                  ((const scn_fleet_drone *)y)->id);
}

void gs_table_poll(gs_app *a, int force)
{
    uint64_t now = scn_loop_now_ms(a->loop);
    size_t n = scn_fleet_count(a->model), got = 0;
    scn_fleet_drone *rows;
    scn_fleet_stats st;
    char line[512], link[256];

    if (!force && now < a->next_table_ms)
        return;
    /* The live "fleet" stream goes on every second without a table. */
    a->next_table_ms =
        now + (a->cf->table_ms ? (uint64_t)a->cf->table_ms : 1000);
    gs_live_table(a, now);
    if (a->cf->table_ms == 0 && !force)
        return;
    rows = calloc(n ? n : 1, sizeof(*rows));
    if (!rows)
        return;
    for (size_t i = 0; i < n; i++)
        if (scn_fleet_drone_get(a->model, i, &rows[got]) == 0)
            got++;
    qsort(rows, got, sizeof(*rows), by_id);
    scn_fleet_get_stats(a->model, &st);
    gs_link_describe(a, now, link, sizeof(link));
    if (a->table_tty)
        fputs("\033[H\033[2J", stdout);
    printf(P ": broker %s; %zu drones, %llu messages, %llu duplicates "
             "dropped\n",
           link, got, (unsigned long long)st.accepted,
           (unsigned long long)st.duplicates);
    scn_fleet_format_header(line, sizeof(line));
    puts(line);
    for (size_t i = 0; i < got; i++) {
        scn_fleet_format_row(&rows[i], now, line, sizeof(line));
        puts(line);
    }
    if (!a->table_tty)
        putchar('\n');
    fflush(stdout);
    free(rows);
}
