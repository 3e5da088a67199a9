/*
 * owlbench: a single-process TFTP load generator (gen.c) and reflector
 * (reflector.c).  This file reads the command line, loads the files and
 * starts one of the two.
 *
 * Self-contained on purpose: the daemon's code moves, the bench must not.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define FNAMES_MAX	256	/* -f given at most */

/* The command line, before it is checked and handed to one mode. */
struct args {
	struct gen_conf	 gen;
	struct refl_conf refl;
	const char	*server;
	const char	*port;
	const char	*listen;
	const char	*fnames[FNAMES_MAX];
	int		 nf;
	int		 reflector;
	unsigned long	 k;		/* --nfiles */
	unsigned long	 workers;
	double		 max_time;	/* -1: the mode's default */
};

static const struct option longopts[] = {
	{ "server", required_argument, NULL, 's' },
	{ "port", required_argument, NULL, 'p' },
	{ "clients", required_argument, NULL, 'c' },
	{ "count", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "blksize", required_argument, NULL, 'b' },
	{ "windowsize", required_argument, NULL, 'w' },
	{ "no-tsize", no_argument, NULL, 'T' },
	{ "root", required_argument, NULL, 'r' },
	{ "file", required_argument, NULL, 'f' },
	{ "nfiles", required_argument, NULL, 'k' },
	{ "upload", no_argument, NULL, 'u' },
	{ "upload-name", required_argument, NULL, 'U' },
	{ "no-verify-upload", no_argument, NULL, 'V' },
	{ "timeout", required_argument, NULL, 't' },
	{ "retries", required_argument, NULL, 'R' },
	{ "max-time", required_argument, NULL, 'M' },
	{ "pid", required_argument, NULL, 'P' },
	{ "cgroup", required_argument, NULL, 'C' },
	{ "label", required_argument, NULL, 'L' },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "reflector", no_argument, NULL, 'X' },
	{ "listen", required_argument, NULL, 'l' },
	{ "workers", required_argument, NULL, 'W' },
	{ "window-max", required_argument, NULL, 'Y' },
	{ "no-gso", no_argument, NULL, 'G' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(void)
{
	fputs(
"usage: owlbench [options] -r ROOT -f FILE ...       load generator\n"
"       owlbench --reflector [-l ADDR] [-p PORT] -r ROOT   null server\n"
"generator:\n"
"  -s, --server ADDR      server address (numeric, default 127.0.0.1; ::1 works)\n"
"  -p, --port PORT        server port (default 69)\n"
"  -c, --clients N        concurrent clients, one socket each (default 1)\n"
"  -n, --count N          stop after N transfers started and finished\n"
"  -d, --duration S       stop after S seconds; transfers still running are cut\n"
"                         (their verified bytes count, their times do not)\n"
"  -b, --blksize N        blksize option (default 1468; 0: do not send)\n"
"  -w, --windowsize N     windowsize option (default 1: not sent; max 64)\n"
"      --no-tsize         do not send the tsize option\n"
"  -r, --root DIR         directory holding the files the server serves\n"
"  -f, --file NAME        file to fetch (repeatable; clients take them in turn)\n"
"  -k, --nfiles K         with one -f NAME: fetch NAME.0 .. NAME.K-1\n"
"  -u, --upload           WRQ instead of RRQ: upload the first file as\n"
"      --upload-name N    N.<slot> (default owlbench-up), verified in ROOT at the end\n"
"      --no-verify-upload do not compare the uploaded files (reflector: no files)\n"
"      --timeout MS       own retransmit timeout (default 1000, doubles, max 4 s)\n"
"      --retries N        give a transfer up after N timeouts in a row (default 5)\n"
"      --max-time S       hard limit for the whole run (default 300)\n"
"      --pid PID          server PID (repeatable): CPU of it and its descendants\n"
"      --cgroup DIR       server cgroup (v1 cpuacct or v2): CPU from its counter\n"
"      --label TEXT       put TEXT into the report\n"
"  -j, --json             also print one JSON line\n"
"  -q, --quiet            only the JSON line\n"
"reflector:\n"
"      --reflector        answer RRQ/WRQ from memory (all files in ROOT)\n"
"  -l, --listen ADDR      address (default 127.0.0.1), -p port (default 0: any)\n"
"      --workers N        processes sharing the port with SO_REUSEPORT (default 1)\n"
"      --window-max N     largest windowsize granted (default 64; 1: ignore it)\n"
"      --no-gso           one datagram per DATA block instead of UDP GSO\n"
"      --max-time S       exit after S seconds (default 7200)\n", stderr);
	exit(2);
}

/* --pid PID[,PID...]: the server processes whose CPU is counted. */
static void
add_pids(struct gen_conf *g, const char *arg)
{
	const char *s = arg;
	char *e;

	while (*s && g->npids < PIDS_MAX) {
		g->pids[g->npids++] = (pid_t)strtol(s, &e, 10);
		s = *e == ',' ? e + 1 : e;
		if (e == s && *s)
			break;
	}
}

static void
parse_args(int argc, char **argv, struct args *a)
{
	struct gen_conf *g = &a->gen;
	int ch;

	memset(a, 0, sizeof *a);
	a->server = "127.0.0.1";
	a->listen = "127.0.0.1";
	a->workers = 1;
	a->max_time = -1;
	g->clients = 1;
	g->blksize = 1468;
	g->window = 1;
	g->tsize = 1;
	g->timeout = 1.0;
	g->retries = 5;
	g->upname = "owlbench-up";
	g->verify_upload = 1;
	a->refl.gso = 1;
	a->refl.win_max = WIN_MAX;
	while ((ch = getopt_long(argc, argv, "s:p:c:n:d:b:w:r:f:k:ujql:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': a->server = optarg; break;
		case 'p': a->port = optarg; break;
		case 'c': g->clients = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': g->count = strtoul(optarg, NULL, 10); break;
		case 'd': g->duration = strtod(optarg, NULL); break;
		case 'b': g->blksize = strtoul(optarg, NULL, 10); break;
		case 'w': g->window = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': g->tsize = 0; break;
		case 'r': g->root = optarg; break;
		case 'f':
			if (a->nf == FNAMES_MAX)
				die("too many -f");
			a->fnames[a->nf++] = optarg;
			break;
		case 'k': a->k = strtoul(optarg, NULL, 10); break;
		case 'u': g->upload = 1; break;
		case 'U': g->upname = optarg; break;
		case 'V': g->verify_upload = 0; break;
		case 't': g->timeout = strtod(optarg, NULL) / 1e3; break;
		case 'R': g->retries = atoi(optarg); break;
		case 'M': a->max_time = strtod(optarg, NULL); break;
		case 'P': add_pids(g, optarg); break;
		case 'C': g->cgroup = optarg; break;
		case 'L': g->label = optarg; break;
		case 'j': g->json = 1; break;
		case 'q': g->quiet = 1; g->json = 1; break;
		case 'X': a->reflector = 1; break;
		case 'l': a->listen = optarg; break;
		case 'W': a->workers = strtoul(optarg, NULL, 10); break;
		case 'Y': a->refl.win_max = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'G': a->refl.gso = 0; break;
		default: usage();
		}
	}
	if (optind != argc || g->root == NULL)
		usage();
}

/* Every -f file, or with none every file of ROOT, served from memory. */
static int
reflector_main(struct args *a)
{
	struct refl_conf *r = &a->refl;

	if (a->nf)
		while (a->nf > 0)
			load_file(a->gen.root, a->fnames[--a->nf]);
	else
		load_dir(a->gen.root);
	if (r->win_max < 1)
		r->win_max = 1;
	resolve(a->listen, a->port ? a->port : "0", &r->addr, &r->addrlen);
	r->workers = (unsigned)a->workers;
	r->max_time = a->max_time > 0 ? a->max_time : 7200;
	return refl_run(r);
}

/* The -f files (or NAME.0 .. NAME.K-1) to verify against; the checks. */
static int
generator_main(struct args *a)
{
	struct gen_conf *g = &a->gen;

	if (a->nf == 0)
		usage();
	if (a->k > 0) {
		unsigned long i;
		char name[4096];

		if (a->nf != 1)
			die("--nfiles takes exactly one -f");
		for (i = 0; i < a->k; i++) {
			snprintf(name, sizeof name, "%s.%lu", a->fnames[0], i);
			load_file(g->root, name);
		}
	} else {
		int i;

		for (i = 0; i < a->nf; i++)
			load_file(g->root, a->fnames[i]);
	}
	if (g->clients < 1 || g->clients > 1000000)
		die("--clients: 1..1000000");
	if (g->window < 1 || g->window > WIN_MAX)
		die("--windowsize: 1..%d", WIN_MAX);
	if (g->blksize != 0 && (g->blksize < 8 || g->blksize > BLK_MAX))
		die("--blksize: 8..%d", BLK_MAX);
	if (g->count == 0 && g->duration <= 0)
		die("give --count or --duration");
	g->max_time = a->max_time > 0 ? a->max_time : 300;
	resolve(a->server, a->port ? a->port : "69", &g->srv, &g->srvlen);
	return gen_run(g);
}

int
main(int argc, char **argv)
{
	struct args a;

	parse_args(argc, argv, &a);
	if (a.reflector)
		return reflector_main(&a);
	return generator_main(&a);
}
