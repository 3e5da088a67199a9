/*
 * TFTP packet codec (RFC 1350, 2347): bytes <-> struct pkt.  Pure: no
 * syscalls, no allocation, no logging.  Decoded strings point into the
 * caller's buffer, which must outlive the struct pkt.
 */
#ifndef OWL_PKT_H
#define OWL_PKT_H

#include <stddef.h>
#include <stdint.h>

enum tftp_op {
	TFTP_OP_RRQ = 1,
	TFTP_OP_WRQ = 2,
	TFTP_OP_DATA = 3,
	TFTP_OP_ACK = 4,
	TFTP_OP_ERROR = 5,
	TFTP_OP_OACK = 6,
};

enum tftp_err {
	TFTP_E_UNDEF = 0,	/* not defined, see message */
	TFTP_E_NOTFOUND = 1,
	TFTP_E_ACCESS = 2,
	TFTP_E_DISKFULL = 3,
	TFTP_E_BADOP = 4,
	TFTP_E_BADID = 5,
	TFTP_E_EXISTS = 6,
	TFTP_E_NOUSER = 7,
	TFTP_E_OPTNEG = 8,
	/* internal: refused by permission_check (fs_perm_reason() says
	   why); sent as 2, access violation */
	TFTP_E_PERM_READ = 0xfffb,
	TFTP_E_PERM_WRITE = 0xfffc,
	TFTP_E_NOFD = 0xfffe,	/* internal: no descriptor left (EMFILE,
				   ENFILE); sent as 0 "server busy" */
	TFTP_E_NONE = 0xffff,	/* internal: success, never on the wire */
};

#define PKT_HDR_LEN	4		/* opcode + block/code */
#define PKT_OPT_MAX	32		/* option pairs kept per request */
#define PKT_DATA_MAX	65464		/* RFC 2348 blksize ceiling */

struct pkt_opt {
	const char	*name;
	const char	*value;
};

struct pkt {
	uint16_t	 op;
	union {
		struct {			/* RRQ, WRQ */
			const char	*file;
			size_t		 filelen;
			const char	*mode;
			struct pkt_opt	 opts[PKT_OPT_MAX];
			size_t		 nopts;
			size_t		 nopts_dropped;	/* beyond PKT_OPT_MAX */
		} req;
		struct {			/* DATA */
			uint16_t	 block;
			const uint8_t	*data;
			size_t		 len;
		} data;
		struct {			/* ACK */
			uint16_t	 block;
		} ack;
		struct {			/* ERROR */
			uint16_t	 code;
			const char	*msg;	/* NULL if not NUL-terminated */
		} error;
		struct {			/* OACK (for test clients) */
			struct pkt_opt	 opts[PKT_OPT_MAX];
			size_t		 nopts;
		} oack;
	} u;
};

enum pkt_result {
	PKT_OK = 0,
	PKT_E_SHORT,		/* shorter than its opcode needs */
	PKT_E_OPCODE,		/* unknown opcode */
	PKT_E_NONUL,		/* a string is not NUL-terminated */
	PKT_E_EMPTYNAME,	/* RRQ/WRQ with an empty file name */
	PKT_E_OPTPAIR,		/* option name without value, or empty name */
};

enum pkt_result	 pkt_decode(const uint8_t *buf, size_t len, struct pkt *p);
const char	*pkt_result_str(enum pkt_result);
const char	*pkt_op_str(uint16_t op);

/*
 * Encoders write into buf (capacity cap) and return the length, or 0 if
 * it does not fit.  ERROR messages that do not fit are truncated instead.
 */
size_t	 pkt_encode_ack(uint8_t *buf, size_t cap, uint16_t block);
size_t	 pkt_encode_data_hdr(uint8_t *buf, size_t cap, uint16_t block);
size_t	 pkt_encode_error(uint8_t *buf, size_t cap, uint16_t code,
	    const char *msg);
size_t	 pkt_encode_oack(uint8_t *buf, size_t cap,
	    const struct pkt_opt *opts, size_t nopts);
/* Request encoder, for test clients and owlbench. */
size_t	 pkt_encode_req(uint8_t *buf, size_t cap, uint16_t op,
	    const char *file, const char *mode,
	    const struct pkt_opt *opts, size_t nopts);

/* Default text for an error code. */
const char	*pkt_err_str(uint16_t code);

#endif
