#ifndef TOLLGATE_CHIREDIS_SHIM_H
#define TOLLGATE_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <string.h>

// redisCommand and redisAppendCommand are variadic and do not import; the argv forms do.
static inline int tg_redis_append_argv(redisContext *c, int argc, const char **argv, const size_t *lens) {
    return redisAppendCommandArgv(c, argc, argv, lens);
}
static inline int tg_redis_get_reply(redisContext *c, redisReply **out) {
    void *r = NULL;
    int rc = redisGetReply(c, &r);
    *out = (redisReply *)r;
    return rc;
}
static inline redisReply *tg_redis_command_argv(redisContext *c, int argc, const char **argv, const size_t *lens) {
    return (redisReply *)redisCommandArgv(c, argc, argv, lens);
}
#endif
