/* Dovecot dict protocol: escaping, line splitting, session, replies. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "proto_dict.h"
#include "tap.h"

static const struct {
	const char *raw;
	const char *esc;
} esc_cases[] = {
	{ "plain", "plain" },
	{ "", "" },
	{ "a\tb", "a\001tb" },
	{ "line1\nline2\r\n", "line1\001nline2\001r\001n" },
	{ "\001", "\0011" },
	{ "\t\t", "\001t\001t" },
	{ "x\001ty", "x\0011ty" },
};

static void
test_escape(void)
{
	struct buf b;

	buf_init(&b, 1024);
	for (size_t i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
		char tmp[64];
		size_t n;

		buf_reset(&b);
		dictproto_escape(
		    &b, esc_cases[i].raw, strlen(esc_cases[i].raw));
		is_str(buf_cstr(&b), esc_cases[i].esc, "escape %zu", i);
		strcpy(tmp, esc_cases[i].esc);
		n = dictproto_unescape(tmp, strlen(tmp));
		ok(n == strlen(esc_cases[i].raw) &&
			memcmp(tmp, esc_cases[i].raw, n) == 0,
		    "unescape %zu", i);
	}
	buf_reset(&b);
	dictproto_escape(&b, "a\0b", 3);
	ok(b.len == 4 && memcmp(b.data, "a\0010b", 4) == 0, "escape NUL");
	{
		char tmp[] = "a\001";
		char unk[] = "a\001xb";

		is_int((int64_t)dictproto_unescape(tmp, 2), 1,
		    "a lone escape at the end is dropped");
		dictproto_unescape(unk, 4);
		ok(memcmp(unk, "axb", 3) == 0,
		    "an unknown escape passes its byte through");
	}
	buf_release(&b);
}

static void
test_line_split(void)
{
	char line[] = "Lshared/a\001tb\tuser";
	char *f[DICT_MAX_FIELDS];
	char nul[] = "x\0010y";
	size_t n, len;
	struct err e = ERR_INIT;
	char *big;

	is_int(dictproto_line("abc", 3, &len), 0, "no LF: need more");
	is_int(dictproto_line("abc\ndef\n", 8, &len), 1, "a line");
	is_int((int64_t)len, 3, "line length");
	big = malloc(DICT_LINE_MAX + 10);
	memset(big, 'x', DICT_LINE_MAX + 10);
	is_int(dictproto_line(big, DICT_LINE_MAX, &len), 0,
	    "a line of exactly the maximum may still end");
	is_int(dictproto_line(big, DICT_LINE_MAX + 1, &len), -1,
	    "one byte more without LF is too long");
	big[DICT_LINE_MAX] = '\n';
	is_int(dictproto_line(big, DICT_LINE_MAX + 10, &len), 1,
	    "a line of the maximum length is accepted");
	free(big);

	is_int(dictproto_split(
		   line + 1, strlen(line) - 1, f, DICT_MAX_FIELDS, &n, &e),
	    0, "split");
	is_int((int64_t)n, 2, "two fields");
	is_str(f[0], "shared/a\tb", "field 1 unescaped");
	is_str(f[1], "user", "field 2");
	is_int(dictproto_split(nul, 5, f, DICT_MAX_FIELDS, &n, &e), -1,
	    "a field decoding to NUL is refused");
	{
		char empty[] = "";

		dictproto_split(empty, 0, f, DICT_MAX_FIELDS, &n, &e);
		ok(n == 1 && f[0][0] == '\0',
		    "an empty line is one empty "
		    "field");
	}
}

/* Feed a script of lines; return the replies written, one string. */
struct step {
	const char *line;
	enum dict_act_kind kind; /* expected */
	int rc;			 /* expected return */
	const char *reply;	 /* for REPLY */
	const char *key;	 /* LOOKUP key / ITERATE path */
	const char *user;
};

static void
run_script(const char *name, const struct step *s, size_t n)
{
	struct dict_session sess;
	struct buf reply;

	dict_session_init(&sess);
	buf_init(&reply, 1024 * 1024);
	for (size_t i = 0; i < n; i++) {
		struct dict_act act;
		struct err e = ERR_INIT;
		char *line = strdup(s[i].line);
		int rc;

		buf_reset(&reply);
		rc = dict_session_feed(
		    &sess, line, strlen(line), &act, &reply, &e);
		is_int(rc, s[i].rc, "%s: step %zu rc (%s)", name, i, e.msg);
		if (rc == 0) {
			is_int(
			    act.kind, s[i].kind, "%s: step %zu kind", name, i);
			if (s[i].reply != NULL)
				is_str(buf_cstr(&reply), s[i].reply,
				    "%s: step %zu reply", name, i);
			if (act.kind == DICT_ACT_LOOKUP)
				is_str(act.key, s[i].key, "%s: step %zu key",
				    name, i);
			if (act.kind == DICT_ACT_ITERATE)
				is_str(act.paths[0], s[i].key,
				    "%s: step %zu path", name, i);
			if (act.kind == DICT_ACT_LOOKUP ||
			    act.kind == DICT_ACT_ITERATE)
				is_str(act.user, s[i].user, "%s: step %zu user",
				    name, i);
			if (act.kind == DICT_ACT_COMMIT) {
				struct buf ops;

				buf_init(&ops, 4096);
				for (size_t j = 0; j < act.tx->nops; j++)
					buf_printf(&ops, "%s%c %s=%s",
					    j ? "; " : "", act.tx->ops[j].op,
					    act.tx->ops[j].key,
					    act.tx->ops[j].value
						? act.tx->ops[j].value
						: "");
				is_str(buf_cstr(&ops), s[i].key,
				    "%s: step %zu ops", name, i);
				is_str(act.tx->user, s[i].user,
				    "%s: step %zu tx user", name, i);
				buf_release(&ops);
				dict_tx_free(act.tx);
			}
		}
		free(line);
		if (rc == -1)
			break;
	}
	buf_release(&reply);
	dict_session_release(&sess);
}

static const struct step v3[] = {
	{ "H3\t2\t0\t\tauth", DICT_ACT_HELLO, 0, NULL, NULL, NULL },
	{ "Lshared/passdb/a@x.org\ta@x.org", DICT_ACT_LOOKUP, 0, NULL,
	    "shared/passdb/a@x.org", "a@x.org" },
	{ "Lshared/key\t", DICT_ACT_LOOKUP, 0, NULL, "shared/key", NULL },
	{ "I0\t0\tshared/userdb/\t*", DICT_ACT_ITERATE, 0, NULL,
	    "shared/userdb/", "*" },
	{ "B1\talice", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "S1\tpriv/quota/storage\t12345", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "A1\tpriv/quota/messages\t-3", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "U1\tpriv/quota/x", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "T1\t1700000000\t0", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "V1\tyes", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "C1", DICT_ACT_COMMIT, 0, NULL,
	    "S priv/quota/storage=12345; A priv/quota/messages=-3; "
	    "U priv/quota/x=",
	    "alice" },
	{ "C1", DICT_ACT_REPLY, 0, "F1\tunknown transaction\n", NULL, NULL },
	{ "B2\t", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "C2", DICT_ACT_REPLY, 0, "O2\n", NULL, NULL },
	{ "B3\t", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "S3\tpriv/x\tv", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "C3", DICT_ACT_REPLY, 0, "F3\tprivate key 'priv/x' without a user\n",
	    NULL, NULL },
	{ "B4\tbob", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "S4\tother/x\tv", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "R4", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "B5\tbob", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "A5\tpriv/n\tnot-a-number", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "D5", DICT_ACT_REPLY, 0, "AF5\tatomic inc: bad diff\n", NULL, NULL },
	{ "Lbad\001", DICT_ACT_LOOKUP, 0, NULL, "bad", NULL },
	{ "S9\tshared/x\ty", DICT_ACT_NONE, -1, NULL, NULL, NULL },
};

static const struct step v4[] = {
	{ "H4\t0\t0\t\tquota", DICT_ACT_HELLO, 0, NULL, NULL, NULL },
	{ "B7\talice@x.org\t0", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "U7\tpriv/quota/storage", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "S7\tpriv/quota/storage\t10", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "C7", DICT_ACT_COMMIT, 0, NULL,
	    "U priv/quota/storage=; S priv/quota/storage=10", "alice@x.org" },
	{ "Z", DICT_ACT_NONE, -1, NULL, NULL, NULL },
};

static const struct step v2[] = {
	{ "H2\t2\t0\tcarol@x.org\tsieve", DICT_ACT_HELLO, 0, NULL, NULL, NULL },
	{ "Lpriv/sieve/name/default", DICT_ACT_LOOKUP, 0, NULL,
	    "priv/sieve/name/default", "carol@x.org" },
	{ "I1\t0\tpriv/a/\tpriv/b/", DICT_ACT_ITERATE, 0, NULL, "priv/a/",
	    "carol@x.org" },
	{ "B1", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "P1\tpriv/log\tmore", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "C1", DICT_ACT_COMMIT, 0, NULL, "P priv/log=more", "carol@x.org" },
};

static const struct step v22old[] = {
	{ "H2\t0\t0\tdan\tmeta", DICT_ACT_HELLO, 0, NULL, NULL, NULL },
	{ "I0\tshared/a/\tshared/b/", DICT_ACT_ITERATE, 0, NULL, "shared/a/",
	    "dan" },
};

static const struct step bad[] = {
	{ "Lshared/key\t", DICT_ACT_NONE, -1, NULL, NULL, NULL },
};

static const struct step badver[] = {
	{ "H5\t0\t0\t\tx", DICT_ACT_NONE, -1, NULL, NULL, NULL },
};

static const struct step shorthello[] = {
	{ "H3\t2\t0", DICT_ACT_NONE, -1, NULL, NULL, NULL },
};

static const struct step nulkey[] = {
	{ "H3\t2\t0\t\tx", DICT_ACT_HELLO, 0, NULL, NULL, NULL },
	{ "Lshared/a\0010b\t", DICT_ACT_REPLY, 0,
	    "Ffield contains a NUL byte\n", NULL, NULL },
	{ "I0\t0\tshared/\0010\t", DICT_ACT_REPLY, 0,
	    "Ffield contains a NUL byte\n", NULL, NULL },
	{ "B1\t", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "S1\tshared/\0010\tv", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "C1", DICT_ACT_REPLY, 0, "F1\tfield contains a NUL byte\n", NULL,
	    NULL },
	{ "B1\t", DICT_ACT_NONE, 0, NULL, NULL, NULL },
	{ "B1\t", DICT_ACT_NONE, -1, NULL, NULL, NULL },
};

static void
test_too_many_tx(void)
{
	struct dict_session sess;
	struct buf reply;
	struct dict_act act;
	struct err e = ERR_INIT;
	char line[64];
	int rc = 0;

	dict_session_init(&sess);
	buf_init(&reply, 1024);
	strcpy(line, "H3\t2\t0\t\tx");
	dict_session_feed(&sess, line, strlen(line), &act, &reply, &e);
	for (int i = 0; i <= DICT_MAX_TX && rc == 0; i++) {
		snprintf(line, sizeof(line), "B%d\t", i);
		rc = dict_session_feed(
		    &sess, line, strlen(line), &act, &reply, &e);
	}
	is_int(rc, -1, "more than %d open transactions closes", DICT_MAX_TX);
	is_int(e.kind, ERR_TOOLARGE, "too many transactions: kind");
	dict_session_release(&sess);
	buf_release(&reply);
}

static void
test_tx_limits(void)
{
	struct dict_session sess;
	struct buf reply;
	struct dict_act act;
	struct err e = ERR_INIT;
	char line[128];

	dict_session_init(&sess);
	buf_init(&reply, 1024);
	strcpy(line, "H3\t2\t0\t\tx");
	dict_session_feed(&sess, line, strlen(line), &act, &reply, &e);
	strcpy(line, "B1\tu");
	dict_session_feed(&sess, line, strlen(line), &act, &reply, &e);
	for (int i = 0; i < DICT_TX_MAX_OPS + 5; i++) {
		snprintf(line, sizeof(line), "S1\tpriv/k%d\tv", i);
		dict_session_feed(&sess, line, strlen(line), &act, &reply, &e);
	}
	strcpy(line, "C1");
	buf_reset(&reply);
	dict_session_feed(&sess, line, strlen(line), &act, &reply, &e);
	is_int(act.kind, DICT_ACT_REPLY, "an oversized transaction fails");
	is_str(buf_cstr(&reply), "F1\ttransaction too large\n",
	    "an oversized transaction: reply");
	dict_session_release(&sess);
	buf_release(&reply);
}

static void
test_replies(void)
{
	struct err e = ERR_INIT;
	struct buf b;
	const char *rest, *user;

	buf_init(&b, 1024);
	dictproto_reply_lookup(&b, 1, "val\tue\n", NULL);
	is_str(buf_cstr(&b), "Oval\001tue\001n\n", "lookup found, escaped");
	buf_reset(&b);
	dictproto_reply_lookup(&b, 0, NULL, NULL);
	is_str(buf_cstr(&b), "N\n", "lookup not found");
	buf_reset(&b);
	err_set(&e, ERR_TEMP, "backend\tdown");
	dictproto_reply_lookup(&b, -1, NULL, &e);
	is_str(buf_cstr(&b), "Fbackend\001tdown\n", "lookup failure");
	buf_reset(&b);
	dictproto_reply_row(&b, "shared/userdb/a", "{\"home\":\"/x\"}");
	is_str(buf_cstr(&b), "Oshared/userdb/a\t{\"home\":\"/x\"}\n", "row");
	buf_reset(&b);
	dictproto_reply_row(&b, "shared/k", "");
	is_str(buf_cstr(&b), "Oshared/k\t\n",
	    "a row keeps its TAB when "
	    "the value is empty");
	buf_reset(&b);
	dictproto_reply_iter_end(&b, 0, NULL);
	is_str(buf_cstr(&b), "\n", "iteration end");
	buf_reset(&b);
	dictproto_reply_iter_end(&b, -1, &e);
	is_str(buf_cstr(&b), "Fbackend\001tdown\n", "iteration failure");
	buf_reset(&b);
	dictproto_reply_commit(&b, 42, false, 1, NULL);
	is_str(buf_cstr(&b), "O42\n", "commit ok");
	buf_reset(&b);
	dictproto_reply_commit(&b, 42, true, -1, &e);
	is_str(buf_cstr(&b), "AF42\tbackend\001tdown\n", "async commit fail");
	buf_reset(&b);
	dictproto_reply_commit(&b, 7, false, 0, NULL);
	is_str(buf_cstr(&b), "N7\n", "commit not found");

	is_int(dictproto_key_split("shared/passdb/a", "u", &rest, &user, &e), 0,
	    "split shared");
	ok(strcmp(rest, "passdb/a") == 0 && user == NULL, "shared: no user");
	dictproto_key_split("priv/quota/storage", "u", &rest, &user, &e);
	ok(strcmp(rest, "quota/storage") == 0 && strcmp(user, "u") == 0,
	    "priv: rest and user");
	is_int(dictproto_key_split("priv/x", "", &rest, &user, &e), -1,
	    "priv without user");
	is_int(dictproto_key_split("other/x", "u", &rest, &user, &e), -1,
	    "neither shared nor priv");
	buf_release(&b);
}

int
main(void)
{
	test_escape();
	test_line_split();
	run_script("2.3.17+", v3, sizeof(v3) / sizeof(v3[0]));
	run_script("2.4", v4, sizeof(v4) / sizeof(v4[0]));
	run_script("2.2.27+", v2, sizeof(v2) / sizeof(v2[0]));
	run_script("2.2.0", v22old, sizeof(v22old) / sizeof(v22old[0]));
	run_script("before hello", bad, 1);
	run_script("bad version", badver, 1);
	run_script("short hello", shorthello, 1);
	run_script("NUL bytes", nulkey, sizeof(nulkey) / sizeof(nulkey[0]));
	test_too_many_tx();
	test_tx_limits();
	test_replies();
	return done_testing();
}
