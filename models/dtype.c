/* Names and sizes of element types, and operator names.
 *
 * Both come from the X-macro lists in model.h, so the names printed in errors, JSON keys and
 * database columns cannot drift from the enums. Sizes are in bits because fp4 packs two
 * elements per byte; byte counts are rounded up once, over a whole tensor. */
#include "models/model.h"

const char *const ss_dtype_names[] = {
#define SS_DTYPE_NAME(e, name, bits) name,
    SS_DTYPE_LIST(SS_DTYPE_NAME)
#undef SS_DTYPE_NAME
    NULL};

static const int dtype_bits[] = {
#define SS_DTYPE_BITS(e, name, bits) bits,
    SS_DTYPE_LIST(SS_DTYPE_BITS)
#undef SS_DTYPE_BITS
};

static const char *const op_names[] = {
#define SS_OP_NAME(e, name) name,
    SS_OP_LIST(SS_OP_NAME)
#undef SS_OP_NAME
};

/* Out-of-range values come only from a cast gone wrong in a caller; answering "?" (or 0
 * bits) keeps a message printable instead of reading past the table. */
const char *ss_dtype_name(ss_dtype t)
{
    return (unsigned)t < SS_DTYPE_COUNT ? ss_dtype_names[t] : "?";
}

int ss_dtype_bits(ss_dtype t)
{
    return (unsigned)t < SS_DTYPE_COUNT ? dtype_bits[t] : 0;
}

uint64_t ss_dtype_bytes(ss_dtype t, uint64_t n)
{
    uint64_t bits = (uint64_t)ss_dtype_bits(t);
    /* n * bits can overflow only beyond 2^60 elements; divide first when it would. */
    if (n > UINT64_MAX / 64) return n / 8 * bits + ((n % 8) * bits + 7) / 8;
    return (n * bits + 7) / 8;
}

const char *ss_op_name(ss_op op)
{
    return (unsigned)op < SS_OP_COUNT ? op_names[op] : "?";
}
