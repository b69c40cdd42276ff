/* Generic name lookup and listing over a kind's table of plug-ins; see plugin.h. */
#include "sim/core/plugin.h"

#include <string.h>

#define INFO(t, i) ((const ss_plugin_info *)(t)[i])

const ss_plugin_info *ss_plugin_find(const void *const *table, const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; table[i]; i++)
        if (strcmp(INFO(table, i)->name, name) == 0) return INFO(table, i);
    return NULL;
}

void ss_plugin_names(const void *const *table, char *buf, size_t n)
{
    size_t used = 0;
    if (!n) return;
    buf[0] = '\0';
    for (size_t i = 0; table[i] && used + 1 < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", INFO(table, i)->name);
        if (w < 0) break;
        used += (size_t)w;
    }
}

void ss_plugin_list(const void *const *table, FILE *out)
{
    for (size_t i = 0; table[i]; i++)
    {
        const ss_plugin_info *p = INFO(table, i);
        fprintf(out, "  %-16s %s%s%s%s\n", p->name, p->help, p->source ? "  [" : "",
                p->source ? p->source : "", p->source ? "]" : "");
    }
}
