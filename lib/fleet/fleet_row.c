/*
 * The ground station's table, one line per drone, fixed columns so that
 * a terminal redraw lines up and a test can split a line on spaces.
 */
#include <stdio.h>
#include <string.h>

#include <scentience/fleet.h>
#include <scentience/log.h>

#define ROW_FORMAT "%-16s %-7s %5s %-20s %-26s %6s %6s"

static size_t finish(int n, size_t cap)
{
    if (n < 0)
        return 0;
    return (size_t)n < cap || cap == 0 ? (size_t)n : cap - 1;
}

size_t scn_fleet_format_header(char *buf, size_t cap)
{
    return finish(snprintf(buf, cap, ROW_FORMAT, "DRONE", "ONLINE", "BATT",
                           "POSITION x,y,h (m)", "LAST INFERENCE", "AGE",
                           "GAPS"),
                  cap);
}

static void format_age(char *out, size_t cap, const scn_fleet_drone *d,
                       uint64_t now_ms)
{
    uint64_t age = now_ms > d->last_ms ? now_ms - d->last_ms : 0;

    if (d->last_ms == 0)
        snprintf(out, cap, "-");
    else if (age < 10000)
        snprintf(out, cap, "%.1fs", (double)age / 1000.0);
    else if (age < 600000)
        snprintf(out, cap, "%us", (unsigned)(age / 1000));
    else
        snprintf(out, cap, "%um", (unsigned)(age / 60000));
}

size_t scn_fleet_format_row(const scn_fleet_drone *d, uint64_t now_ms,
                            char *buf, size_t cap)
{
    char id[SCN_FLEET_ID_MAX * 4 + 1], bat[16], pos[48], inf[40], label[32];
    char age[16], gaps[24];

    if (!d) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    /* The id was checked on the way in; escaped anyway, it is a peer's. */
    scn_escape_text(id, sizeof(id), d->id, strlen(d->id));
    if (d->has_battery)
        snprintf(bat, sizeof(bat), "%.0f%%", d->battery_pct);
    else
        snprintf(bat, sizeof(bat), "-");
    if (d->has_position)
        snprintf(pos, sizeof(pos), "%.1f,%.1f,%.1f", d->x_m, d->y_m, d->h_m);
    else
        snprintf(pos, sizeof(pos), "-");
    if (d->inference_ms && d->inference[0]) {
        scn_escape_text(label, sizeof(label), d->inference,
                        strlen(d->inference));
        snprintf(inf, sizeof(inf), "%s %.2f", label, d->inference_score);
    } else {
        snprintf(inf, sizeof(inf), "-");
    }
    format_age(age, sizeof(age), d, now_ms);
    snprintf(gaps, sizeof(gaps), "%llu", (unsigned long long)d->gaps);
    return finish(snprintf(buf, cap, ROW_FORMAT, id,
                           d->online == 1   ? "yes"
                           : d->online == 0 ? "NO"
                                            : "?",
                           bat, pos, inf, age, gaps),
                  cap);
}
