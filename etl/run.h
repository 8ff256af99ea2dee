/*
 * run.h: `anonetl run`, one run of the job from config to published data
 * (DESIGN.md "Data path of one run").
 */
#ifndef RUN_H
#define RUN_H

#include <stdbool.h>

#include "anonymise/config.h"

struct run_options {
    bool skip_preflight;
    bool full_refresh;
    int jobs; /* 0 = the config's run.jobs */
};

/* Returns the process exit code (exitcode.h). */
int run_main(const struct config *cfg, const struct run_options *opt);

#endif
