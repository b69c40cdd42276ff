/* Lookup in generated tables of embedded files; see embed.h. */
#include "sim/core/embed.h"

#include <strings.h>

const ss_embedded_file *ss_embed_find(const ss_embedded_file *table, const char *name)
{
    for (const ss_embedded_file *f = table; f && f->name; f++)
        if (strcasecmp(f->name, name) == 0) return f;
    return 0;
}
