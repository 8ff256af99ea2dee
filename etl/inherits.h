/*
 * inherits.h: the inheritance children a configured table is read with.
 *
 * A table is read as SELECT reads it: with the rows of its INHERITS children, at any
 * depth (an archive of erased members, another tenant's table). A child no rule names
 * has its rows published under its parent's rules; a configured child twice, once under
 * the parent's rules, which may hide less than its own. Partitions are not named: their
 * rows are their parent's by definition. A where: reading tableoid chooses among the
 * relations itself: not named either. `check --source` prints these lines as warnings,
 * every run logs them (event inheritance_child), so a child added after the config was
 * written is seen. Names only, from the catalog.
 */
#ifndef INHERITS_H
#define INHERITS_H

#include <libpq-fe.h>
#include <stddef.h>

#include "anonymise/abuf.h"
#include "etl/plan.h"

/* One line per child of plans[t] ("public.members: its inheritance child ...", each
 * ending in '\n'), appended to out; the number of lines. A source that cannot be asked
 * adds nothing (a warning only: the run does not depend on it). */
size_t inherits_warn(PGconn *conn, const struct table_plan *const *plans, size_t n, size_t t,
                     struct abuf *out);

#endif
