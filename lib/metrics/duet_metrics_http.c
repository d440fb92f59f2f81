/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_metrics_http: the Prometheus endpoint. libmicrohttpd runs it on one
 * thread of its own (MHD's internal polling thread), which inherits the
 * main thread's CPU set, so it never takes a worker's CPU. GET or HEAD of
 * /metrics answers the text exposition; anything else is 404 or 405. A
 * few connections at a time and a short timeout: it is for one or two
 * scrapers, not the world (the default listens on loopback only).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "metrics_internal.h"

#define HTTP_CONNECTIONS 8
#define HTTP_TIMEOUT_S 10
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static enum MHD_Result
reply_text(struct MHD_Connection *conn, unsigned int status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size,
	   void **req_cls)
{
	struct duet_metrics *m = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)version;
	(void)upload_data;
	/* The first call is for the headers only; answer on the second. */
	if (*req_cls == NULL) {
		*req_cls = m;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0; /* a body is read and ignored */
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (strcmp(url, "/") == 0)
		return reply_text(conn, MHD_HTTP_OK, "duetd: metrics at /metrics\n");
	if (strcmp(url, "/metrics") != 0)
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	if (duet_metrics_write_prometheus(m, f) != 0 || fclose(f) != 0) {
		free(buf);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot write metrics\n");
	}
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, PROM_CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* MHD's own error messages (a bind failure is reported by the start). */
static void
on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	METRICS_LOG(WARNING, "http: %s%s", msg, strchr(msg, '\n') != NULL ? "" : "\n");
}

int
duet_metrics_http_start(struct duet_metrics *m, char *err, size_t errlen)
{
	const struct duet_conf_metrics *mc = &m->src.conf->metrics;
	struct sockaddr_storage ss;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	char where[DUET_ADDR_STRLEN];
	struct MHD_Daemon *d;
	int e;

	if (!mc->enabled)
		return 0;
	duet_addr_format(&mc->addr, where, sizeof(where));
	memset(&ss, 0, sizeof(ss));
	if (mc->addr.family == DUET_AF_INET4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, mc->addr.ip, 4);
		sin->sin_port = mc->addr.port;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, mc->addr.ip, 16);
		sin6->sin6_port = mc->addr.port;
		flags |= MHD_USE_IPv6;
	}
	errno = 0;
	/* The logger first: MHD warns about options given before it. */
	d = MHD_start_daemon(flags, ntohs(mc->addr.port), NULL, NULL, on_request, m,
			     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_S,
			     MHD_OPTION_END);
	if (d == NULL) {
		e = errno != 0 ? errno : EADDRNOTAVAIL;
		snprintf(err, errlen,
			 "[metrics] listen = %s: cannot serve HTTP there: %s (another process on "
			 "the port? set another address, or listen = off)",
			 where, strerror(e));
		return -e;
	}
	m->httpd = d;
	METRICS_LOG(INFO, "Prometheus metrics at http://%s/metrics\n", where);
	return 0;
}

void
metrics_http_stop(struct duet_metrics *m)
{
	if (m->httpd != NULL)
		MHD_stop_daemon(m->httpd);
	m->httpd = NULL;
}
