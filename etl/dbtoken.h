/*
 * dbtoken.h: `anonetl db-token`, print an RDS IAM authentication token, like `aws rds
 * generate-db-auth-token`, so ops can try IAM authentication by hand:
 *
 *   PGPASSWORD=$(anonetl db-token --host H --port 5432 --user U) psql "host=H user=U
 *       sslmode=verify-full sslrootcert=..."
 *
 * Credentials come from the standard chain; the region from --region, else the RDS host
 * name, else AWS_REGION / AWS_DEFAULT_REGION / the profile (etl/awsauth.h). The test hook
 * ANONETL_FIXED_TIME=SECONDS fixes the signing time (tests/preflight/rds_token.sh).
 */
#ifndef DBTOKEN_H
#define DBTOKEN_H

/* argv[0] is "db-token". Returns an exit code (exitcode.h). */
int dbtoken_main(int argc, char **argv);

#endif
