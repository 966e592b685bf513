/* scn_strerror and scn_err_name, both generated from SCN_ERRNO_MAP. */
#include <scentience/error.h>

const char *scn_strerror(int err)
{
    switch (err) {
    case SCN_OK:
        return "success";
#define SCN_STR_CASE_(name, value, text)                                       \
    case value:                                                                \
        return text;
        SCN_ERRNO_MAP(SCN_STR_CASE_)
#undef SCN_STR_CASE_
    }
    return "unknown error";
}

const char *scn_err_name(int err)
{
    switch (err) {
    case SCN_OK:
        return "OK";
#define SCN_NAME_CASE_(name, value, text)                                      \
    case value:                                                                \
        return #name;
        SCN_ERRNO_MAP(SCN_NAME_CASE_)
#undef SCN_NAME_CASE_
    }
    return "UNKNOWN";
}
