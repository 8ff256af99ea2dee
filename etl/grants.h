/*
 * grants.h: after every publish, the published schema grants what the config says and
 * nothing more (target.grant_select_to), inside the publish transaction.
 *
 * On each published view: SELECT for the listed roles, every other privilege of every
 * other role (PUBLIC included) revoked, so a role removed from the list stops reading
 * at the publish that follows. On the published schema: USAGE for the listed roles (the
 * union of the lists of the configs with tables there: publish.c, schema_readers)
 * (without it SELECT on the views is useless: "permission denied for schema"), every
 * other grant revoked. Nothing is granted on anonetl or anonetl_data: the views read
 * those with their owner's rights. Only the owner of an object can change its grants
 * (a non-owner's GRANT is a warning, not an error): the schema's result is checked
 * through has_schema_privilege, and a difference is an error naming the role.
 */
#ifndef GRANTS_H
#define GRANTS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "anonymise/anon_error.h"

/* relation: quoted, schema-qualified ("anonymised"."orders"). */
bool grants_sync_relation(PGconn *conn, const char *relation, char *const *roles, size_t n_roles,
                          struct anon_error *err) ANON_MUST_CHECK;
bool grants_sync_schema(PGconn *conn, const char *schema, char *const *roles, size_t n_roles,
                        struct anon_error *err) ANON_MUST_CHECK;

#endif
