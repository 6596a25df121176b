/* mod_body_limit: LimitRequestBody for reverse-proxied requests, which core's HTTP_IN filter leaves unchecked
 * (modules/http/http_filters.c: "if (!f->r->proxyreq)"). A body over the limit gets 413, from its
 * Content-Length before any of it is read, or, sent chunked, once the limit is passed; no replica sees it.
 * mod_proxy maps the APR_ENOSPC returned here to 413 (ap_map_http_request_error), and Apache then closes
 * the connection instead of reading the rest. */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"
#include "apr_strings.h"

module AP_MODULE_DECLARE_DATA body_limit_module;

static const char filter_name[] = "BODY_LIMIT";

typedef struct {
    apr_off_t limit;
    apr_off_t read; /* body bytes passed on so far */
} body_limit_ctx;

static apr_status_t body_limit_filter(ap_filter_t *f, apr_bucket_brigade *bb, ap_input_mode_t mode,
                                      apr_read_type_e block, apr_off_t readbytes)
{
    body_limit_ctx *ctx = f->ctx;
    apr_off_t length;
    apr_status_t rv;

    if (!ctx) {
        const char *announced = apr_table_get(f->r->headers_in, "Content-Length");
        f->ctx = ctx = apr_pcalloc(f->r->pool, sizeof(*ctx));
        ctx->limit = ap_get_limit_req_body(f->r);
        /* Refused before the first read: no "100 Continue" is sent, no byte of the body read. */
        if (announced && apr_strtoff(&length, announced, NULL, 10) == APR_SUCCESS && length > ctx->limit) {
            return APR_ENOSPC;
        }
    }
    rv = ap_get_brigade(f->next, bb, mode, block, readbytes);
    /* Only READBYTES consumes the body (SPECULATIVE reads the same bytes again later). */
    if (rv != APR_SUCCESS || mode != AP_MODE_READBYTES) {
        return rv;
    }
    rv = apr_brigade_length(bb, 1, &length);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    ctx->read += length;
    if (ctx->read > ctx->limit) {
        apr_brigade_cleanup(bb);
        return APR_ENOSPC;
    }
    return APR_SUCCESS;
}

/* On every proxied request with a limit (LimitRequestBody 0 means none); core checks the others. */
static void insert_filter(request_rec *r)
{
    if (r->proxyreq && ap_get_limit_req_body(r) > 0) {
        ap_add_input_filter(filter_name, NULL, r, r->connection);
    }
}

static void register_hooks(apr_pool_t *p)
{
    ap_register_input_filter(filter_name, body_limit_filter, NULL, AP_FTYPE_RESOURCE);
    ap_hook_insert_filter(insert_filter, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(body_limit) = {
    STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL, register_hooks
};
