/* Rate limit for repeated stderr lines (ratelimit.h). */
#include "ratelimit.h"

int cli_ratelimit_allow(cli_ratelimit *rl, uint64_t now_ms, uint64_t *held)
{
    if (rl->next_ms != 0 && now_ms < rl->next_ms) {
        rl->held++;
        return 0;
    }
    if (held)
        *held = rl->held;
    rl->held = 0;
    rl->next_ms = now_ms + rl->interval_ms;
    if (rl->next_ms == 0)
        rl->next_ms = 1;
    return 1;
}
