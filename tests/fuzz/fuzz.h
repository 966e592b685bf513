/*
 * Helpers of the libFuzzer targets (tests/fuzz/fuzz_<name>.c). A target
 * defines LLVMFuzzerTestOneInput; a broken check prints what broke and
 * aborts, so libFuzzer keeps the input as a crash.
 */
#ifndef SCN_FUZZ_H
#define SCN_FUZZ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

static inline void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* FUZZ_CHECK(cond, "format", ...): a property every input must keep. */
#define FUZZ_CHECK(cond, ...)                                                  \
    do {                                                                       \
        if (!(cond))                                                           \
            fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);                        \
    } while (0)

/* A NUL-terminated copy of data[0..n), for APIs that take C strings (the
 * copy ends at the first NUL, as such a string would). */
static inline char *fuzz_cstr(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);

    if (s == NULL)
        abort();
    memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

/* Takes structured values off the front of an input: a target that needs
 * a few numbers before its text reads them here; past the end it reads
 * zeros. */
typedef struct fuzz_in {
    const uint8_t *p;
    size_t n;
} fuzz_in;

static inline uint64_t fuzz_take(fuzz_in *in, size_t bytes)
{
    uint64_t v = 0;

    for (size_t i = 0; i < bytes; i++) {
        v = v << 8;
        if (in->n > 0) {
            v |= *in->p++;
            in->n--;
        }
    }
    return v;
}

#endif
