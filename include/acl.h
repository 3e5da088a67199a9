/*
 * Access lists: an ordered list of allow/deny rules on the peer's address.
 *
 * A rule is "allow CIDR", "deny CIDR", "allow all" or "deny all".  CIDR is
 * a numeric IPv4 or IPv6 address with an optional "/prefix" (none means a
 * single host).  Keywords are case-insensitive and any run of spaces or
 * tabs separates the words.  Parsing is strict: no hostnames, no scope ids
 * ("%eth0"), no leading zeros, a prefix within the family's range, and no
 * address bits set beyond the prefix ("10.0.0.1/8" is refused).
 *
 * Matching: the first rule that matches decides.  An empty list allows
 * everything; a non-empty list that nothing matches denies.  IPv4 and
 * IPv6 are separate: an IPv4 peer (or an IPv4-mapped IPv6 peer,
 * ::ffff:a.b.c.d, which is the same client seen through a dual-stack
 * socket) is matched against IPv4 rules only, an IPv6 peer against IPv6
 * rules only, and "all" matches every peer.  A rule written in mapped
 * form with a prefix of 96 or more ("::ffff:10.0.0.0/104") is stored as
 * the IPv4 rule it denotes ("10.0.0.0/8"), so it is not dead.
 *
 * Pure: no syscalls.  Memory is allocated only by acl_new() and acl_add()
 * (build time); acl_allows() is O(rules) and allocates nothing.
 */
#ifndef OWL_ACL_H
#define OWL_ACL_H

#include <sys/socket.h>

#include <stddef.h>

struct acl;

/* An empty list (allows everything); NULL when out of memory. */
struct acl	*acl_new(void);
/* Accepts NULL. */
void		 acl_free(struct acl *);
/*
 * Append one rule.  0 on success; -1 on a malformed rule or out of
 * memory, with *why (if why is not NULL) set to a static string, and the
 * list unchanged.
 */
int		 acl_add(struct acl *, const char *rule, const char **why);
size_t		 acl_count(const struct acl *);
/* 1 if peer is allowed, 0 if denied. */
int		 acl_allows(const struct acl *, const struct sockaddr *peer);

#endif
