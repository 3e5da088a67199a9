/*
 * owlbench: what the load generator (gen.c) and the reflector
 * (reflector.c) share: the TFTP wire constants, the files held in memory,
 * option parsing, the receive batch, timing and CPU accounting, and the
 * settings main.c fills from the command line.
 *
 * Self-contained on purpose: the daemon's code moves, the bench must not,
 * so nothing here includes a header of src/ or include/.  Each .c file
 * defines _GNU_SOURCE before its first include (struct mmsghdr).
 */
#ifndef OWLBENCH_COMMON_H
#define OWLBENCH_COMMON_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define OP_RRQ		1
#define OP_WRQ		2
#define OP_DATA		3
#define OP_ACK		4
#define OP_ERROR	5
#define OP_OACK		6

#define BLK_MAX		65464
#define PKT_MAX		(BLK_MAX + 4)
#define VLEN		64		/* datagrams per recvmmsg */
#define WIN_MAX		64		/* windowsize the bench asks for at most */
#define PIDS_MAX	32		/* --pid values kept */

/* Generator settings (gen.c), from the command line. */
struct gen_conf {
	struct sockaddr_storage	 srv;
	socklen_t		 srvlen;
	unsigned		 clients;
	unsigned long		 count;		/* 0: no count limit */
	double			 duration;	/* 0: no duration limit */
	double			 max_time;
	size_t			 blksize;
	unsigned		 window;
	int			 tsize;
	int			 upload;
	int			 verify_upload;
	const char		*root;
	const char		*upname;
	double			 timeout;
	int			 retries;
	int			 json;
	int			 quiet;
	const char		*label;
	const char		*cgroup;
	pid_t			 pids[PIDS_MAX];
	int			 npids;
};

/* Reflector settings (reflector.c), from the command line. */
struct refl_conf {
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	unsigned		 workers;
	unsigned		 win_max;	/* largest windowsize granted */
	int			 gso;		/* UDP GSO when the kernel has it */
	double			 max_time;
};

int	 gen_run(const struct gen_conf *);
int	 refl_run(const struct refl_conf *);

/* Small helpers. */
double	 now_mono(void);
void	 die(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	*xcalloc(size_t, size_t);
void	 raise_nofile(void);
size_t	 put_str(uint8_t *, size_t, size_t, const char *);
void	 resolve(const char *, const char *, struct sockaddr_storage *,
	    socklen_t *);

/* Big-endian 16-bit fields; inline, as every packet uses them. */
static inline void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Client ports: a rotation that goes on from one run to the next. */
void	 port_load(void);
void	 port_save(void);
void	 port_bind(int, const struct sockaddr_storage *, socklen_t);

/* Files held in memory: the generator verifies, the reflector serves. */
struct file {
	char		*name;
	uint8_t		*data;
	size_t		 size;
};

extern struct file	*files;
extern size_t		 nfiles;

void		 load_file(const char *, const char *);
void		 load_dir(const char *);
struct file	*find_file(const char *);

/* Options of an OACK or a request. */
struct opts {
	size_t		 blksize;	/* 0: not present */
	unsigned	 window;
	long long	 tsize;		/* -1: not present */
};

void	 parse_opts(const uint8_t *, size_t, struct opts *);

/* One recvmmsg batch of VLEN datagrams, PKT_MAX + 1 bytes each. */
extern uint8_t			*rxbuf[VLEN];
extern struct mmsghdr		 rxmsg[VLEN];
extern struct sockaddr_storage	 rxaddr[VLEN];

void	 rx_setup(void);

/* Timing and CPU accounting. */
double	 cpu_self(void);
double	 server_cpu(const char *, const pid_t *, int);
void	 times_sort(double *, size_t);
double	 times_pct(const double *, size_t, double);

#endif /* OWLBENCH_COMMON_H */
