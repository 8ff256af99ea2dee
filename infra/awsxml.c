/* awsxml.c: libxml2 tree helpers of the AWS Query API parsers (see awsxml.h). */
#include "infra/awsxml.h"

#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

bool awsxml_is_named(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->name && strcmp((const char *)n->name, name) == 0;
}

xmlNode *awsxml_child(const xmlNode *parent, const char *name)
{
    for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
        if (awsxml_is_named(c, name))
            return c;
    return NULL;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool awsxml_node_text(const xmlNode *node, const char *name, char *dst, size_t size, bool strict,
                      struct infra_error *err)
{
    xmlChar *raw;
    const char *s, *e;
    size_t len;

    dst[0] = '\0';
    if (!node)
        return true;
    raw = xmlNodeGetContent(node);
    if (!raw) {
        infra_error_set(err, "out of memory reading <%s>", name);
        return false;
    }
    s = (const char *)raw;
    e = s + strlen(s);
    while (s < e && is_blank(*s))
        s++;
    while (e > s && is_blank(e[-1]))
        e--;
    len = (size_t)(e - s);
    if (len >= size) {
        if (strict) {
            infra_error_set(err, "<%s> value too long (%zu bytes, at most %zu)", name, len,
                            size - 1);
            xmlFree(raw);
            return false;
        }
        len = size - 1;
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
            dst[i] = ' ';
    xmlFree(raw);
    return true;
}

bool awsxml_get_text(const xmlNode *parent, const char *name, char *dst, size_t size,
                     struct infra_error *err)
{
    return awsxml_node_text(awsxml_child(parent, name), name, dst, size, true, err);
}

xmlDoc *awsxml_read(const char *buf, size_t len, size_t max, const char *service,
                    struct infra_error *err)
{
    xmlParserCtxt *ctx;
    xmlDoc *doc;
    char file[32];

    if (!buf || len == 0) {
        infra_error_set(err, "empty %s response body", service);
        return NULL;
    }
    if (len > max) {
        infra_error_set(err, "%s response body too large (%zu bytes)", service, len);
        return NULL;
    }
    ctx = xmlNewParserCtxt();
    if (!ctx) {
        infra_error_set(err, "out of memory");
        return NULL;
    }
    snprintf(file, sizeof(file), "%s-response.xml", service);
    doc = xmlCtxtReadMemory(ctx, buf, (int)len, file, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *e = xmlCtxtGetLastError(ctx);
        char msg[200] = "not well-formed";
        if (e && e->message) {
            snprintf(msg, sizeof(msg), "%s", e->message);
            for (char *p = msg; *p; p++)
                if (*p == '\n' || *p == '\r')
                    *p = ' ';
        }
        infra_error_set(err, "%s response is not valid XML (line %d): %s", service, e ? e->line : 0,
                        msg);
        xmlFreeParserCtxt(ctx);
        return NULL;
    }
    xmlFreeParserCtxt(ctx);
    if (doc->intSubset || doc->extSubset) {
        infra_error_set(err, "%s response has a DTD; refused", service);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}
