/* Unit tests for the access lists. */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "suite_main.h"
#include "acl.h"

#define RULES_MAX	4

static struct acl *
acl_of(const char *const *rules)
{
	struct acl	*a;
	const char	*why = NULL;
	size_t		 i;

	ck_assert_ptr_nonnull(a = acl_new());
	for (i = 0; i < RULES_MAX && rules[i] != NULL; i++) {
		if (acl_add(a, rules[i], &why) != 0)
			ck_abort_msg("rule \"%s\": %s", rules[i], why);
	}
	ck_assert_uint_eq(acl_count(a), i);
	return a;
}

static int
allows(const struct acl *a, const char *text)
{
	struct sockaddr_storage	 ss;

	return acl_allows(a, peer(&ss, text, 6969));
}

/* A one-rule list, a peer it must allow and one (or NULL) it must not. */
struct match_case {
	const char	*rule;
	const char	*in;
	const char	*out;
};

static void
expect_match(const struct match_case *mc)
{
	const char	*rules[] = { mc->rule, NULL };
	struct acl	*a = acl_of(rules);

	ck_assert_msg(allows(a, mc->in), "%s should allow %s", mc->rule,
	    mc->in);
	if (mc->out != NULL)
		ck_assert_msg(!allows(a, mc->out), "%s should deny %s",
		    mc->rule, mc->out);
	acl_free(a);
}

/* Rules that parse, each with a peer it must match and one it must not. */
static const struct match_case good[] = {
	{ "allow 10.0.0.0/8",		"10.255.0.1",	"11.0.0.0" },
	{ "allow 192.0.2.7",		"192.0.2.7",	"192.0.2.6" },
	{ "  allow \t 192.0.2.0/24 \t",	"192.0.2.255",	"192.0.3.0" },
	{ "ALLOW 198.51.100.0/24",	"198.51.100.1",	"203.0.113.1" },
	{ "aLLoW ALL",			"2001:db8::1",	NULL },
	{ "allow all",			"0.0.0.0",	NULL },
	{ "allow 0.0.0.0/0",		"255.255.255.255", "::1" },
	{ "allow ::/0",			"2001:db8::1",	"10.0.0.1" },
	{ "allow ::1",			"::1",		"::2" },
	{ "allow ::1/128",		"::1",		"::" },
	{ "allow 2001:DB8::/32",	"2001:db8:ffff::1", "2001:db9::" },
	{ "allow 2001:db8::/32",	"2001:DB8::1",	"2001:db7::" },
	{ "allow fe80::/10",		"febf::1",	"fec0::1" },
	{ "allow ::ffff:10.0.0.0/104",	"10.1.2.3",	"11.1.2.3" },
	{ "allow ::ffff:10.0.0.0/104",	"::ffff:10.1.2.3", "2001:db8::1" },
	{ "allow ::ffff:0:0/96",	"1.2.3.4",	"::1" },
	{ "allow ::fffe:0:0/95",	"::fffe:0:1",	"10.0.0.1" },
	{ "allow 1:2:3:4:5:6:7.8.9.10",	"1:2:3:4:5:6:708:90a", "1:2:3:4:5:6:7:8" },
};

START_TEST(parses_valid_rule)
{
	expect_match(&good[_i]);
}
END_TEST

static const struct {
	const char	*rule;
	const char	*why;
} bad[] = {
	{ "",					"empty rule" },
	{ " \t ",				"empty rule" },
	{ "permit 10.0.0.0/8",			"unknown action" },
	{ "allowed 10.0.0.0/8",			"unknown action" },
	{ "allo 10.0.0.0/8",			"unknown action" },
	{ "10.0.0.0/8",				"unknown action" },
	{ "allow",				"missing address" },
	{ "deny   ",				"missing address" },
	{ "allow 10.0.0.0/8 10.0.0.0/8",	"trailing garbage" },
	{ "allow all all",			"trailing garbage" },
	{ "allow 10.0.0.0 /8",			"trailing garbage" },
	{ "allow 10.0.0.0/33",			"bad prefix" },
	{ "allow 10.0.0.0/",			"bad prefix" },
	{ "allow 10.0.0.0/-1",			"bad prefix" },
	{ "allow 10.0.0.0/+8",			"bad prefix" },
	{ "allow 10.0.0.0/08",			"bad prefix" },
	{ "allow 10.0.0.0/8x",			"bad prefix" },
	{ "allow 10.0.0.0/0008",		"bad prefix" },
	{ "allow 10.0.0.0/8/8",			"bad prefix" },
	{ "allow 10.0.0.0/4294967304",		"bad prefix" },
	{ "allow ::/129",			"bad prefix" },
	{ "allow 2001:db8::/1000",		"bad prefix" },
	{ "allow 10.0.0.1/8",			"host bits set" },
	{ "allow 10.0.3.0/23",			"host bits set" },
	{ "allow 128.0.0.0/0",			"host bits set" },
	{ "allow 192.0.2.1/31",			"host bits set" },
	{ "allow 2001:db8::1/32",		"host bits set" },
	{ "allow 2001:db8:0:0:4000::/65",	"host bits set" },
	{ "allow ::1/127",			"host bits set" },
	{ "allow ::ffff:10.0.0.1/104",		"host bits set" },
	{ "allow localhost",			"bad address" },
	{ "allow example.org/24",		"bad address" },
	{ "allow 10.0.0",			"bad address" },
	{ "allow 10.0.0.0.0",			"bad address" },
	{ "allow 010.0.0.1",			"bad address" },
	{ "allow 256.0.0.1",			"bad address" },
	{ "allow 0x0a.0.0.1",			"bad address" },
	{ "allow 167772161",			"bad address" },
	{ "allow :::1",				"bad address" },
	{ "allow 1::2::3",			"bad address" },
	{ "allow 2001:db8::g",			"bad address" },
	{ "allow 1:2:3:4:5:6:7:8:9",		"bad address" },
	{ "allow fe80::1%eth0",			"bad address" },
	{ "allow [::1]",			"bad address" },
	{ "allow all/0",			"bad address" },
	{ "allow /8",				"bad address" },
	{ "allow 10.0.0.0\n",			"bad address" },
	{ "allow 0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/0",
						"bad address" },
	{ "allow 0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:"
	  "0000:0000:0000:0000:0000:0000:0000:0000::/0",	"bad address" },
};

START_TEST(rejects_malformed_rule)
{
	struct acl	*a;
	const char	*why = NULL;

	ck_assert_ptr_nonnull(a = acl_new());
	ck_assert_int_eq(acl_add(a, "deny 192.0.2.0/24", &why), 0);
	ck_assert_msg(acl_add(a, bad[_i].rule, &why) == -1,
	    "\"%s\" was accepted", bad[_i].rule);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strcmp(why, bad[_i].why) == 0, "\"%s\": \"%s\", not \"%s\"",
	    bad[_i].rule, why, bad[_i].why);
	ck_assert_uint_eq(acl_count(a), 1);
	/* The refused rule left nothing behind. */
	ck_assert(!allows(a, "10.0.0.1"));
	ck_assert(!allows(a, "::1"));
	ck_assert_int_eq(acl_add(a, bad[_i].rule, NULL), -1);
	acl_free(a);
}
END_TEST

START_TEST(null_rule_is_empty)
{
	struct acl	*a = acl_new();
	const char	*why = NULL;

	ck_assert_int_eq(acl_add(a, NULL, &why), -1);
	ck_assert_str_eq(why, "empty rule");
	ck_assert_uint_eq(acl_count(a), 0);
	acl_free(a);
	acl_free(NULL);
}
END_TEST

/* Prefix boundaries: rule, a peer inside, a peer just outside. */
static const struct match_case edge[] = {
	{ "allow 0.0.0.0/0",		"0.0.0.0",		NULL },
	{ "allow 0.0.0.0/0",		"255.255.255.255",	NULL },
	{ "allow 128.0.0.0/1",		"128.0.0.0",		"127.255.255.255" },
	{ "allow 0.0.0.0/1",		"127.255.255.255",	"128.0.0.0" },
	{ "allow 10.0.2.0/23",		"10.0.2.0",		"10.0.1.255" },
	{ "allow 10.0.2.0/23",		"10.0.3.255",		"10.0.4.0" },
	{ "allow 172.16.0.0/12",	"172.31.255.255",	"172.32.0.0" },
	{ "allow 192.0.2.128/25",	"192.0.2.128",		"192.0.2.127" },
	{ "allow 192.0.2.6/31",		"192.0.2.7",		"192.0.2.8" },
	{ "allow 192.0.2.7/32",		"192.0.2.7",		"192.0.2.6" },
	{ "allow 192.0.2.7/32",		"192.0.2.7",		"192.0.2.8" },
	{ "allow ::/0",			"::",			NULL },
	{ "allow ::/0",			"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
	{ "allow 8000::/1",		"8000::",		"7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	{ "allow ::/1",			"7fff::",		"8000::" },
	{ "allow 2001:db8::/64",	"2001:db8::ffff:ffff:ffff:ffff", "2001:db8:0:1::" },
	{ "allow 2001:db8::/65",	"2001:db8::7fff:ffff:ffff:ffff", "2001:db8::8000:0:0:0" },
	{ "allow 2001:db8::8000:0:0:0/65", "2001:db8::ffff:ffff:ffff:ffff", "2001:db8::7fff:ffff:ffff:ffff" },
	{ "allow 2001:db8::/127",	"2001:db8::1",		"2001:db8::2" },
	{ "allow 2001:db8::1/128",	"2001:db8::1",		"2001:db8::" },
	{ "allow 2001:db8::1/128",	"2001:db8::1",		"2001:db8::3" },
	{ "allow ::ffff:192.0.2.0/120",	"192.0.2.255",		"192.0.3.0" },
};

START_TEST(prefix_boundary)
{
	expect_match(&edge[_i]);
}
END_TEST

START_TEST(first_match_wins)
{
	const char	*deny_first[] = { "deny 10.0.0.1", "allow 10.0.0.0/8",
	    NULL };
	const char	*allow_first[] = { "allow 10.0.0.0/8", "deny 10.0.0.1",
	    NULL };
	const char	*all_last[] = { "deny 2001:db8::/32", "allow all",
	    NULL };
	struct acl	*a;

	a = acl_of(deny_first);
	ck_assert(!allows(a, "10.0.0.1"));
	ck_assert(allows(a, "10.0.0.2"));
	acl_free(a);

	a = acl_of(allow_first);
	ck_assert(allows(a, "10.0.0.1"));
	ck_assert(allows(a, "10.0.0.2"));
	acl_free(a);

	a = acl_of(all_last);
	ck_assert(!allows(a, "2001:db8::1"));
	ck_assert(allows(a, "2001:db9::1"));
	ck_assert(allows(a, "192.0.2.1"));
	acl_free(a);
}
END_TEST

START_TEST(deny_all_stops_later_rules)
{
	const char	*rules[] = { "allow 192.0.2.1", "deny all",
	    "allow all", NULL };
	struct acl	*a = acl_of(rules);

	ck_assert(allows(a, "192.0.2.1"));
	ck_assert(allows(a, "::ffff:192.0.2.1"));
	ck_assert(!allows(a, "192.0.2.2"));
	ck_assert(!allows(a, "::1"));
	acl_free(a);
}
END_TEST

START_TEST(empty_list_allows)
{
	struct acl		*a = acl_new();
	struct sockaddr_storage	 ss;

	ck_assert_uint_eq(acl_count(a), 0);
	ck_assert(allows(a, "192.0.2.1"));
	ck_assert(allows(a, "2001:db8::1"));
	ck_assert(allows(a, "::ffff:192.0.2.1"));
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNIX;
	ck_assert(acl_allows(a, (struct sockaddr *)&ss));
	acl_free(a);
}
END_TEST

START_TEST(unmatched_denies)
{
	const char		*v4[] = { "allow 10.0.0.0/8", NULL };
	const char		*v6[] = { "deny 2001:db8::/32", NULL };
	const char		*any[] = { "allow all", NULL };
	struct acl		*a;
	struct sockaddr_storage	 ss;

	a = acl_of(v4);
	ck_assert(!allows(a, "192.0.2.1"));
	ck_assert(!allows(a, "::a00:1"));	/* IPv4-compatible is IPv6 */
	ck_assert(!allows(a, "2001:db8::1"));
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNIX;
	ck_assert(!acl_allows(a, (struct sockaddr *)&ss));
	acl_free(a);

	/* A list of denies only denies everything. */
	a = acl_of(v6);
	ck_assert(!allows(a, "2001:db9::1"));
	ck_assert(!allows(a, "10.0.0.1"));
	acl_free(a);

	a = acl_of(any);
	ck_assert(acl_allows(a, (struct sockaddr *)&ss));
	acl_free(a);
}
END_TEST

START_TEST(mapped_peer_matches_ipv4_rule)
{
	const char	*rules[] = { "deny 192.0.2.66", "allow 192.0.2.0/24",
	    "allow 2001:db8::/32", NULL };
	struct acl	*a = acl_of(rules);

	ck_assert(allows(a, "192.0.2.1"));
	ck_assert(allows(a, "::ffff:192.0.2.1"));
	ck_assert(!allows(a, "192.0.2.66"));
	ck_assert(!allows(a, "::ffff:192.0.2.66"));
	ck_assert(!allows(a, "::ffff:192.0.3.1"));
	ck_assert(allows(a, "2001:db8::c000:201"));
	/* Only the mapped form is IPv4; NAT64 and compatible forms are not. */
	ck_assert(!allows(a, "::192.0.2.1"));
	ck_assert(!allows(a, "64:ff9b::192.0.2.1"));
	ck_assert(!allows(a, "::fffe:192.0.2.1"));
	acl_free(a);
}
END_TEST

START_TEST(ipv6_rules_ignore_ipv4_peers)
{
	const char	*rules[] = { "deny ::/0", NULL };
	const char	*rules2[] = { "deny ::/0", "allow 0.0.0.0/0", NULL };
	struct acl	*a;

	a = acl_of(rules);
	ck_assert(!allows(a, "2001:db8::1"));
	ck_assert(!allows(a, "10.0.0.1"));	/* unmatched, so denied */
	acl_free(a);

	a = acl_of(rules2);
	ck_assert(!allows(a, "2001:db8::1"));
	ck_assert(allows(a, "10.0.0.1"));
	ck_assert(allows(a, "::ffff:10.0.0.1"));
	acl_free(a);
}
END_TEST

START_TEST(many_rules)
{
	struct acl	*a = acl_new();
	char		 rule[64];
	unsigned	 i;

	for (i = 0; i < 1000; i++) {
		(void)snprintf(rule, sizeof rule, "deny 10.%u.%u.0/24",
		    i / 256, i % 256);
		ck_assert_int_eq(acl_add(a, rule, NULL), 0);
	}
	ck_assert_int_eq(acl_add(a, "allow 10.0.0.0/8", NULL), 0);
	ck_assert_uint_eq(acl_count(a), 1001);
	ck_assert(!allows(a, "10.0.0.1"));
	ck_assert(!allows(a, "10.3.231.255"));
	ck_assert(allows(a, "10.3.232.0"));
	ck_assert(!allows(a, "11.0.0.0"));
	acl_free(a);
}
END_TEST

static Suite *
acl_suite(void)
{
	Suite	*s = suite_create("acl");
	TCase	*tc;

	tc = tcase_create("acl parses valid rules");
	tcase_add_loop_test(tc, parses_valid_rule, 0, NITEMS(good));
	suite_add_tcase(s, tc);

	tc = tcase_create("acl rejects malformed rules");
	tcase_add_loop_test(tc, rejects_malformed_rule, 0, NITEMS(bad));
	tcase_add_test(tc, null_rule_is_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("acl prefix boundaries");
	tcase_add_loop_test(tc, prefix_boundary, 0, NITEMS(edge));
	suite_add_tcase(s, tc);

	tc = tcase_create("acl first match wins");
	tcase_add_test(tc, first_match_wins);
	tcase_add_test(tc, deny_all_stops_later_rules);
	tcase_add_test(tc, many_rules);
	suite_add_tcase(s, tc);

	tc = tcase_create("acl empty list allows");
	tcase_add_test(tc, empty_list_allows);
	suite_add_tcase(s, tc);

	tc = tcase_create("acl non-empty unmatched denies");
	tcase_add_test(tc, unmatched_denies);
	tcase_add_test(tc, ipv6_rules_ignore_ipv4_peers);
	suite_add_tcase(s, tc);

	tc = tcase_create("acl mapped peers match ipv4 rules");
	tcase_add_test(tc, mapped_peer_matches_ipv4_rule);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(acl_suite());
}
