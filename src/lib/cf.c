#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cf.h"
#include "strutil.h"
#include "xalloc.h"
#include "banned.h"

void
cf_release(struct cf *cf)
{
	for (size_t i = 0; i < cf->n; i++) {
		free(cf->v[i].key);
		str_wipe(cf->v[i].value);
		free(cf->v[i].value);
	}
	free(cf->v);
	free(cf->path);
	cf->v = NULL;
	cf->n = 0;
	cf->path = NULL;
}

static void
cf_put(struct cf *cf, char *key, char *value, int line)
{
	for (size_t i = 0; i < cf->n; i++) {
		if (strcmp(cf->v[i].key, key) == 0) {
			str_wipe(cf->v[i].value);
			free(cf->v[i].value);
			free(key);
			cf->v[i].value = value;
			cf->v[i].line = line;
			return;
		}
	}
	cf->v = xreallocarray(cf->v, cf->n + 1, sizeof(*cf->v));
	cf->v[cf->n].key = key;
	cf->v[cf->n].value = value;
	cf->v[cf->n].line = line;
	cf->n++;
}

static bool
valid_key(const char *k)
{
	if (*k == '\0')
		return false;
	for (; *k != '\0'; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
			(*k >= '0' && *k <= '9') || *k == '_' || *k == '-' ||
			*k == '.'))
			return false;
	return true;
}

/* Finish one logical line: "key = value". */
static int
cf_logical(
    struct cf *cf, const char *name, char *text, int line, struct err *err)
{
	char *eq, *key, *value;

	eq = strchr(text, '=');
	if (eq == NULL) {
		err_set(err, ERR_CONFIG,
		    "%s:%d: missing '=' (expected 'name = value')", name, line);
		return -1;
	}
	*eq = '\0';
	key = str_trim(text);
	value = str_trim(eq + 1);
	if (!valid_key(key)) {
		err_set(
		    err, ERR_CONFIG, "%s:%d: bad parameter name", name, line);
		return -1;
	}
	cf_put(cf, xstrdup(key), xstrdup(value), line);
	return 0;
}

int
cf_parse_buf(struct cf *cf, const char *name, const char *data, size_t len,
    struct err *err)
{
	char *logical = NULL, *grown;
	size_t llen = 0;
	int lline = 0, line = 0, rc = 0;
	const char *p, *end;

	memset(cf, 0, sizeof(*cf));
	if (len == 0)
		data = ""; /* no arithmetic on a NULL pointer */
	p = data;
	end = data + len;
	if (len > CF_MAX_SIZE)
		return err_set(err, ERR_CONFIG, "%s: larger than %d bytes",
		    name, CF_MAX_SIZE);
	cf->path = xstrdup(name);
	if (len > 0 && memchr(data, '\0', len) != NULL) {
		err_set(err, ERR_CONFIG, "%s: contains a NUL byte", name);
		cf_release(cf);
		return -1;
	}
	while (p < end && rc == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		const char *q = p;

		line++;
		if (n > 0 && p[n - 1] == '\r')
			n--; /* CR LF: the CR must not end up in a value */
		while (q < p + n && (*q == ' ' || *q == '\t'))
			q++;
		if (q == p + n || *q == '#') {
			/* blank or comment: ends nothing, continues nothing */
		} else if (q != p) {
			/* continuation of the previous logical line */
			if (logical == NULL) {
				err_set(err, ERR_CONFIG,
				    "%s:%d: continuation line without a preceding parameter",
				    name, line);
				rc = -1;
				break;
			}
			/*
			 * Grow by copying, not realloc(), so no stray copy
			 * of a password is left behind in freed memory.
			 */
			grown = xmalloc(llen + n + 2);
			memcpy(grown, logical, llen);
			str_wipe(logical);
			free(logical);
			logical = grown;
			logical[llen++] = ' ';
			memcpy(logical + llen, q, (size_t)(p + n - q));
			llen += (size_t)(p + n - q);
			logical[llen] = '\0';
		} else {
			if (logical != NULL) {
				rc = cf_logical(cf, name, logical, lline, err);
				str_wipe(logical);
				free(logical);
				logical = NULL;
				if (rc == -1)
					break;
			}
			logical = xstrndup(p, n);
			llen = n;
			lline = line;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (rc == 0 && logical != NULL)
		rc = cf_logical(cf, name, logical, lline, err);
	if (logical != NULL) {
		str_wipe(logical);
		free(logical);
	}
	if (rc == -1)
		cf_release(cf);
	return rc;
}

int
cf_parse_file(struct cf *cf, const char *path, struct err *err)
{
	struct stat st;
	char *data;
	ssize_t n;
	size_t got = 0;
	int fd, rc;

	memset(cf, 0, sizeof(*cf));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		if (errno == ENOENT) {
			err_set(
			    err, ERR_CONFIG, "map file '%s' not found", path);
			return err_hint(err,
			    "set postfix_sql_dir to the directory holding your Postfix sql-*.cf files, or create them with 'postino init'");
		}
		return err_set(err, ERR_CONFIG, "cannot open '%s': %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(
		    err, ERR_CONFIG, "'%s' is not a regular file", path);
	}
	if (st.st_size > CF_MAX_SIZE) {
		close(fd);
		return err_set(err, ERR_CONFIG, "'%s' is larger than %d bytes",
		    path, CF_MAX_SIZE);
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, data + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_set(err, ERR_CONFIG, "cannot read '%s': %s", path,
			    strerror(errno));
			close(fd);
			explicit_bzero(data, got);
			free(data);
			return -1;
		}
		if (n == 0)
			break; /* the file shrank; parse what is there */
		got += (size_t)n;
	}
	close(fd);
	rc = cf_parse_buf(cf, path, data, got, err);
	explicit_bzero(data, (size_t)st.st_size + 1);
	free(data);
	return rc;
}

const char *
cf_get(const struct cf *cf, const char *key)
{
	for (size_t i = 0; i < cf->n; i++)
		if (strcmp(cf->v[i].key, key) == 0)
			return cf->v[i].value;
	return NULL;
}

int
cf_line(const struct cf *cf, const char *key)
{
	for (size_t i = 0; i < cf->n; i++)
		if (strcmp(cf->v[i].key, key) == 0)
			return cf->v[i].line;
	return 0;
}
