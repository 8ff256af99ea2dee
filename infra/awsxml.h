/*
 * awsxml.h: the libxml2 tree helpers the AWS Query API parsers share (ec2_xml.c,
 * rds_xml.c). A body is parsed with no network, no DTD and no error printing; elements
 * are looked up by local name among an element's children, so neither the namespace
 * date of a response nor the order of its elements matters.
 */
#ifndef AWSXML_H
#define AWSXML_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "infra/infra_error.h"

/* An element named `name` (local name). */
bool awsxml_is_named(const xmlNode *n, const char *name);
/* The first child element of parent named `name`, or NULL (parent may be NULL). */
xmlNode *awsxml_child(const xmlNode *parent, const char *name);
/* The trimmed text of element node (named name, for messages) into dst ("" when node is
 * NULL); control characters become spaces, so a value stays on one line. Too long for
 * dst: an error when strict, else cut. False (err set) on an error. */
bool awsxml_node_text(const xmlNode *node, const char *name, char *dst, size_t size, bool strict,
                      struct infra_error *err);
/* The text of parent's child `name` ("" when absent), strict. */
bool awsxml_get_text(const xmlNode *parent, const char *name, char *dst, size_t size,
                     struct infra_error *err);
/* Parse a response body of `service` ("EC2", "RDS": for messages) of at most max bytes.
 * A document with a DTD is refused (AWS never sends one: refusing it closes entity
 * tricks). NULL with err set on any problem; the caller frees the document. */
xmlDoc *awsxml_read(const char *buf, size_t len, size_t max, const char *service,
                    struct infra_error *err);

#endif
