/*
 * Guest instructions executed, from qemu-user's log on stdin
 * (-d in_asm,exec,nochain): each translated block lists its instructions
 * once (in_asm, "IN:" then one "0xADDR: ..." line per instruction), and
 * every time a block runs qemu writes "Trace N: HOST [CS/PC/FLAGS/CFLAGS]"
 * (nochain: no block runs without its line). The total is the sum over
 * runs of the block's size. Prints "TOTAL UNLISTED": blocks that ran but
 * were never listed (should be 0). bench/board-footprint builds and uses
 * it; it keeps up with qemu where awk did not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS (1u << 22) /* blocks: far more than a run translates */

static uint64_t keys[SLOTS];
static uint32_t sizes[SLOTS];

static uint32_t *slot(uint64_t pc)
{
    uint64_t h = (pc * UINT64_C(0x9E3779B97F4A7C15)) >> 42;

    for (;; h = (h + 1) & (SLOTS - 1)) {
        if (keys[h] == pc + 1 || keys[h] == 0) {
            keys[h] = pc + 1;
            return &sizes[h];
        }
    }
}

int main(void)
{
    static char line[4096];
    uint64_t total = 0, unlisted = 0, start = 0;
    uint32_t n = 0;
    int in_block = 0;

    while (fgets(line, sizeof line, stdin)) {
        if (line[0] == 'T' && strncmp(line, "Trace ", 6) == 0) {
            char *p = strchr(line, '/');
            uint32_t *s;
            if (!p)
                continue;
            s = slot(strtoull(p + 1, NULL, 16));
            if (*s == 0)
                unlisted++;
            total += *s;
        } else if (strncmp(line, "IN:", 3) == 0) {
            in_block = 1;
            n = 0;
        } else if (in_block && line[0] == '0' && line[1] == 'x') {
            if (n++ == 0)
                start = strtoull(line + 2, NULL, 16);
        } else if (in_block) {
            if (n)
                *slot(start) = n;
            in_block = 0;
        }
    }
    printf("%llu %llu\n", (unsigned long long)total,
           (unsigned long long)unlisted);
    return 0;
}
