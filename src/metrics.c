/*
 * GET /metrics over evhttp.  The page is whatever the render callback
 * writes, rendered at once: the master's callback reads its cached
 * counters (at most stats_interval_ms old), so a scrape never waits for
 * a worker.
 */
#include "config.h"

#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "conf.h"
#include "metrics.h"
#include "sock.h"
#include "xmalloc.h"

struct metrics {
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	metrics_render_fn		 render;
	void				*arg;
};

static void
metrics_cb(struct evhttp_request *req, void *arg)
{
	struct metrics	*mx = arg;
	struct evbuffer	*out;
	char		*buf = NULL;
	size_t		 len = 0;
	FILE		*fp;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	if ((out = evbuffer_new()) == NULL ||
	    (fp = open_memstream(&buf, &len)) == NULL) {
		if (out != NULL)
			evbuffer_free(out);
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	if (mx->render(fp, mx->arg) == -1) {
		(void)fclose(fp);
		free(buf);
		evbuffer_free(out);
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	(void)fclose(fp);
	(void)evbuffer_add(out, buf, len);
	free(buf);
	(void)evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

static void
notfound_cb(struct evhttp_request *req, void *arg)
{
	evhttp_send_error(req, 404, "Not Found");
}

struct metrics *
metrics_new(struct event_base *base, const struct conf_listen *l,
    metrics_render_fn render, void *arg, char **cause)
{
	struct metrics		*mx;
	char			 host[64];
	const char		*addr = l->text;
	int			 port;

	port = sock_port_of((const struct sockaddr *)&l->addr);
	if (sock_ntoa((const struct sockaddr *)&l->addr, host, sizeof host) ==
	    NULL) {
		xasprintf(cause, "metrics_listen %s: bad address", addr);
		return NULL;
	}
	mx = xcalloc(1, sizeof *mx);
	mx->render = render;
	mx->arg = arg;
	if ((mx->http = evhttp_new(base)) == NULL) {
		xasprintf(cause, "metrics: evhttp_new failed");
		free(mx);
		return NULL;
	}
	evhttp_set_allowed_methods(mx->http, EVHTTP_REQ_GET);
	(void)evhttp_set_cb(mx->http, "/metrics", metrics_cb, mx);
	evhttp_set_gencb(mx->http, notfound_cb, mx);
	evhttp_set_timeout(mx->http, 10);
	mx->bound = evhttp_bind_socket_with_handle(mx->http, host,
	    (uint16_t)port);
	if (mx->bound == NULL) {
		xasprintf(cause, "metrics_listen %s: cannot bind", addr);
		evhttp_free(mx->http);
		free(mx);
		return NULL;
	}
	return mx;
}

void
metrics_free(struct metrics *mx)
{
	if (mx == NULL)
		return;
	evhttp_free(mx->http);
	free(mx);
}

int
metrics_port(const struct metrics *mx)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;

	if (getsockname(evhttp_bound_socket_get_fd(mx->bound),
	    (struct sockaddr *)&ss, &len) == -1)
		return -1;
	return sock_port_of((struct sockaddr *)&ss);
}
