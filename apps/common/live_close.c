/* A clean end of a live listener (live_close.h). */
#include "live_close.h"

void live_close_and_free(scn_live *live, scn_loop *loop)
{
    scn_live_stats st;
    uint64_t until;

    if (!live)
        return;
    if (scn_live_close_all(live) > 0) {
        until = scn_loop_now_ms(loop) + 1000;
        do {
            scn_loop_run_once(loop, 20);
            scn_live_get_stats(live, &st);
        } while (st.server.connections_open > 0 &&
                 scn_loop_now_ms(loop) < until);
    }
    scn_live_free(live);
}
