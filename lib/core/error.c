/* scn_strerror and scn_err_name, both generated from SCN_ERRNO_MAP; the
 * errno classes. */
#include <scentience/error.h>

#include <errno.h>

int scn_err_from_errno(int errnum)
{
    switch (errnum) {
    case EADDRINUSE:
        return SCN_ERR_ADDRESS_IN_USE;
    case EADDRNOTAVAIL:
        return SCN_ERR_ADDRESS_UNAVAILABLE;
    case EACCES:
    case EPERM:
        return SCN_ERR_PERMISSION;
    case ENOENT:
    case ENOTDIR:
        return SCN_ERR_NO_SUCH_FILE;
    case ENOSPC:
    case EDQUOT:
        return SCN_ERR_NO_SPACE;
    case EROFS:
        return SCN_ERR_READ_ONLY;
    case EISDIR:
        return SCN_ERR_IS_DIRECTORY;
    case EEXIST:
        return SCN_ERR_EXISTS;
    case ENOMEM:
        return SCN_ERR_NOMEM;
    default:
        return SCN_ERR_IO;
    }
}

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
