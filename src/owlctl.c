/*
 * owlctl: send one command to owltftpd's control socket and print the
 * answer.  Exit 0 on "ok", 1 on an error reply, 2 on a usage or
 * connection failure.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "ctl.h"

#define OWLCTL_DEFAULT_SOCKET	OWL_DEFAULT_CONTROL_SOCKET
#define OWLCTL_TIMEOUT_MS	15000
#define OWLCTL_COLS_MAX		16

static void __attribute__((noreturn))
usage(int code)
{
	(void)fprintf(code == 0 ? stdout : stderr,
	    "usage: owlctl [-hrV] [-s socket] command [argument ...]\n"
	    "  -h, --help     this help\n"
	    "  -r             raw key=value answers (no tables)\n"
	    "  -s socket      the control socket (default %s)\n"
	    "  -V, --version  print the version\n"
	    "commands: status, stats [json|prometheus|reset], workers, "
	    "transfers,\n"
	    "          reload, reopen, stop [graceful|now], version, help\n",
	    OWLCTL_DEFAULT_SOCKET);
	exit(code);
}

/* Read the whole reply (the server closes when done). */
static char *
read_reply(int fd, size_t *lenp)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		*buf = NULL;
	size_t		 len = 0, cap = 0;
	ssize_t		 n;

	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			if ((buf = realloc(buf, cap)) == NULL) {
				(void)fprintf(stderr, "owlctl: out of memory\n");
				exit(2);
			}
		}
		if (poll(&pfd, 1, OWLCTL_TIMEOUT_MS) <= 0) {
			(void)fprintf(stderr, "owlctl: no answer from the "
			    "server\n");
			exit(2);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)fprintf(stderr, "owlctl: read: %s\n",
			    strerror(errno));
			exit(2);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/*
 * "prefix.N.key=value" lines as a table: one row per N, one column per
 * key in first-seen order.  Other lines pass through.
 */
static void
print_table(char *body, const char *prefix)
{
	char	*cols[OWLCTL_COLS_MAX], *line, *save = NULL;
	char	*copy = strdup(body);
	size_t	 ncols = 0, i, plen = strlen(prefix);
	long	 row = -1;
	int	 header = 0;

	if (copy == NULL)
		return;
	/* Pass 1: the column names. */
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char	*key, *eq;

		if (strncmp(line, prefix, plen) != 0 || line[plen] != '.')
			continue;
		key = strchr(line + plen + 1, '.');
		eq = strchr(line, '=');
		if (key == NULL || eq == NULL || eq < key)
			continue;
		*eq = '\0';
		for (i = 0; i < ncols; i++)
			if (strcmp(cols[i], key + 1) == 0)
				break;
		if (i == ncols && ncols < OWLCTL_COLS_MAX)
			cols[ncols++] = key + 1;
	}
	/* Pass 2: the values, a row per index, under a header. */
	save = NULL;
	for (line = strtok_r(body, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char	*dot, *eq, *end;
		long	 n;

		if (strncmp(line, prefix, plen) != 0 || line[plen] != '.') {
			if (row >= 0)
				(void)printf("\n");
			row = -1;
			(void)printf("%s\n", line);
			continue;
		}
		n = strtol(line + plen + 1, &end, 10);
		dot = end;
		eq = strchr(line, '=');
		if (*dot != '.' || eq == NULL)
			continue;
		if (n != row) {
			if (row >= 0)
				(void)printf("\n");
			else if (!header) {
				for (i = 0; i < ncols; i++)
					(void)printf("%s%s", i ? "\t" : "",
					    cols[i]);
				(void)printf("\n");
				header = 1;
			}
			row = n;
			(void)printf("%s", eq + 1);
		} else
			(void)printf("\t%s", eq + 1);
	}
	if (row >= 0)
		(void)printf("\n");
	free(copy);
}

/* The request line: the magic, then the words, then a newline. */
static size_t
request_line(char *line, size_t size, int argc, char **argv)
{
	int	 i, n;

	n = snprintf(line, size, "%s", CTL_MAGIC);
	for (i = 0; i < argc && n > 0 && (size_t)n < size; i++)
		n += snprintf(line + n, size - (size_t)n, " %s", argv[i]);
	if (n < 0 || (size_t)n + 1 >= size) {
		(void)fprintf(stderr, "owlctl: command too long\n");
		exit(2);
	}
	line[n++] = '\n';
	return (size_t)n;
}

/* Connect to the socket at path and send the line; exit 2 on failure. */
static int
send_request(const char *path, const char *line, size_t n)
{
	struct sockaddr_un	 sun;
	size_t			 off;
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof sun.sun_path) >=
	    sizeof sun.sun_path) {
		(void)fprintf(stderr, "owlctl: %s: path too long\n", path);
		exit(2);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		(void)fprintf(stderr, "owlctl: cannot connect to %s: %s\n",
		    path, strerror(errno));
		exit(2);
	}
	for (off = 0; off < n; ) {
		ssize_t	 w = write(fd, line + off, n - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			(void)fprintf(stderr, "owlctl: write: %s\n",
			    strerror(errno));
			exit(2);
		}
		off += (size_t)w;
	}
	return fd;
}

/* Print the server's answer to command; the exit status it means. */
static int
print_reply(char *reply, size_t len, const char *command, int raw)
{
	char	*body;

	if (strncmp(reply, "ok\n", 3) == 0 || strcmp(reply, "ok") == 0) {
		body = reply + (reply[2] == '\n' ? 3 : 2);
		if (!raw && strcmp(command, "workers") == 0)
			print_table(body, "worker");
		else if (!raw && strcmp(command, "transfers") == 0)
			print_table(body, "transfer");
		else
			(void)fputs(body, stdout);
		return 0;
	}
	if (strncmp(reply, "error", 5) == 0) {
		(void)fprintf(stderr, "owlctl: %s", reply + (reply[5] == ' ' ?
		    6 : 5));
		if (len > 0 && reply[len - 1] != '\n')
			(void)fputc('\n', stderr);
		return 1;
	}
	(void)fprintf(stderr, "owlctl: unexpected answer from the server\n");
	return 2;
}

int
main(int argc, char **argv)
{
	const char	*path = OWLCTL_DEFAULT_SOCKET;
	char		 line[CTL_LINE_MAX + 2], *reply;
	size_t		 len, n;
	int		 ch, fd, raw = 0, status;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};

	while ((ch = getopt_long(argc, argv, "hrs:V", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'h':
			usage(0);
		case 'V':
			(void)printf("owlctl %s\n", PACKAGE_VERSION);
			return 0;
		case 'r':
			raw = 1;
			break;
		case 's':
			path = optarg;
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(2);

	n = request_line(line, sizeof line, argc, argv);
	fd = send_request(path, line, n);
	reply = read_reply(fd, &len);
	(void)close(fd);
	status = print_reply(reply, len, argv[0], raw);
	free(reply);
	return status;
}
