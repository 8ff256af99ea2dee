/*
 * test_aws_metadata.c: infra/aws_metadata's reading of the ECS task metadata v4 document
 * (the shapes the ECS documentation shows for Fargate/awsvpc, bridge and host modes), and
 * that nothing is asked of any endpoint when neither source is configured.
 * The HTTP side (ECS v4 and IMDSv2 against a fake server) is in tests/preflight/aws_moto.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "infra/aws_metadata.h"

static const char fargate[] =
    "{\"Cluster\":\"arn:aws:ecs:us-west-2:111122223333:cluster/default\",\"TaskARN\":\"t\","
    "\"LaunchType\":\"FARGATE\",\"Containers\":[{\"Name\":\"~internal~ecs~pause\",\"Networks\":"
    "[{\"NetworkMode\":\"awsvpc\",\"IPv4Addresses\":[\"10.0.2.106\"],\"AttachmentIndex\":0,"
    "\"MACAddress\":\"07:3b:75:18:c7:29\",\"IPv4SubnetCIDRBlock\":\"10.0.2.0/24\"}]},"
    "{\"Name\":\"anonetl\",\"Networks\":[{\"NetworkMode\":\"awsvpc\",\"IPv4Addresses\":"
    "[\"10.0.2.106\"]}]}]}";
static const char bridge[] =
    "{\"Containers\":[{\"Name\":\"anonetl\",\"Networks\":[{\"NetworkMode\":\"bridge\","
    "\"IPv4Addresses\":[\"172.17.0.2\"]}]}]}";
static const char no_mode[] =
    "{\"Containers\":[{\"Networks\":[{\"IPv4Addresses\":[\"10.1.2.3\"]}]}]}";
static const char not_ip[] =
    "{\"Containers\":[{\"Networks\":[{\"NetworkMode\":\"awsvpc\",\"IPv4Addresses\":"
    "[\"<html>\"]}]}]}";

static void test_ecs_task_document(void **state)
{
    struct aws_job_identity id;
    struct infra_error err = {{0}};

    (void)state;
    assert_true(aws_metadata_parse_ecs_task(fargate, strlen(fargate), &id, &err));
    assert_string_equal(id.ip, "10.0.2.106");
    assert_string_equal(id.source, "ECS task metadata v4");
    assert_string_equal(id.subnet, "");
    /* the MAC tells the task's interface from others with the same address elsewhere */
    assert_string_equal(id.mac, "07:3b:75:18:c7:29");
    assert_true(aws_metadata_parse_ecs_task(no_mode, strlen(no_mode), &id, &err));
    assert_string_equal(id.ip, "10.1.2.3");
    assert_string_equal(id.mac, "");
    /* bridge mode: the container's address is not the one the database sees */
    assert_false(aws_metadata_parse_ecs_task(bridge, strlen(bridge), &id, &err));
    assert_non_null(strstr(err.msg, "not in awsvpc mode"));
    assert_string_equal(id.ip, "");
    assert_false(aws_metadata_parse_ecs_task(not_ip, strlen(not_ip), &id, &err));
    assert_false(aws_metadata_parse_ecs_task("[]", 2, &id, &err));
    assert_false(aws_metadata_parse_ecs_task("{", 1, &id, &err));
}

static void test_nothing_configured(void **state)
{
    struct aws_job_identity id;
    struct infra_error err = {{0}};

    (void)state;
    unsetenv("ECS_CONTAINER_METADATA_URI_V4");
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    assert_false(aws_metadata_job_identity(&id, &err));
    assert_non_null(strstr(err.msg, "no ECS_CONTAINER_METADATA_URI_V4"));
    assert_non_null(strstr(err.msg, "IMDSv2 disabled"));
    assert_string_equal(id.ip, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecs_task_document),
        cmocka_unit_test(test_nothing_configured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
