/* Small helpers shared by the commands: wall clock and error reporting. */
#include <time.h>

#include "sim/cli/cli.h"

double ss_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void ss_cli_report(const ss_diag *d)
{
    char buf[2048];
    ss_diag_format(d, buf, sizeof buf);
    fprintf(stderr, "servesim: error: %s\n", buf);
}
