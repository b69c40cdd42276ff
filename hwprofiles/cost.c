/* The table of built-in iteration cost models and lookup by name.
 *
 * An explicit static const table (Lua's linit.c) rather than self-registration: the order is
 * visible, `servesim list` prints it as written, and static linking cannot drop an entry. A
 * calibrated model fitted to measured kernels is added here as one more line. */
#include "hwprofiles/cost.h"

/* Defined in cost_roofline.c. Declared here rather than in cost.h because the engine reaches
 * cost models only through this table and ss_cost_find. */
extern const ss_cost_ops ss_cost_roofline;

const ss_cost_ops *const ss_cost_builtin[] = {
    &ss_cost_roofline,
    &ss_cost_calibrated,
    NULL,
};

const ss_cost_ops *ss_cost_find(const char *name)
{
    /* ss_plugin_find returns the info at the start of the ops struct: the same address. */
    return (const ss_cost_ops *)ss_plugin_find((const void *const *)ss_cost_builtin, name);
}
