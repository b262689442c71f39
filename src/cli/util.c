/*
 * util.c: terminal interaction for the CLI: confirmations and password
 * entry.  Passwords are read without echo from /dev/tty (never from argv or
 * the environment), or as one line from stdin with --password-stdin; the
 * prompt goes to the terminal, never to stdout, so --json output stays
 * clean.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "addr.h"
#include "cli.h"
#include "password.h"
#include "strutil.h"
#include "banned.h"

bool
cli_confirm(struct cli *c, const char *fmt, ...)
{
	char q[512], ans[16];
	va_list ap;
	FILE *tty;
	bool yes = false;

	(void)c;
	tty = fopen("/dev/tty", "r+");
	if (tty == NULL)
		return false;
	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	fprintf(tty, "%s [y/N] ", q);
	fflush(tty);
	if (fgets(ans, sizeof(ans), tty) != NULL)
		yes = ans[0] == 'y' || ans[0] == 'Y';
	fclose(tty);
	return yes;
}

/* Read one line from fd into buf (no more than size-1 bytes). */
static ssize_t
read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		char ch;
		ssize_t r = read(fd, &ch, 1);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (ch == '\n')
			goto done;
		buf[n++] = ch;
	}
	if (n + 1 >= size) {
		/* Too long: swallow the rest of the line and fail. */
		char ch;

		while (read(fd, &ch, 1) == 1 && ch != '\n')
			;
		buf[0] = '\0';
		return -2;
	}
done:
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (ssize_t)n;
}

static ssize_t
prompt_noecho(int fd, const char *label, char *buf, size_t size)
{
	struct termios old, raw;
	ssize_t n;

	/* Echo goes off before the prompt shows: what is typed once it is
	 * visible is never echoed. */
	if (tcgetattr(fd, &old) == -1)
		return -1;
	raw = old;
	raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	raw.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSANOW, &raw) == -1)
		return -1;
	(void)!write(fd, label, strlen(label));
	n = read_line(fd, buf, size);
	(void)tcsetattr(fd, TCSANOW, &old);
	(void)!write(fd, "\n", 1);
	return n;
}

static int read_pw(
    struct cli *, bool, const char *, char *, size_t, bool, struct err *);

int
cli_read_password(struct cli *c, bool from_stdin, const char *label, char *buf,
    size_t size, struct err *err)
{
	return read_pw(c, from_stdin, label, buf, size, false, err);
}

int
cli_read_secret(struct cli *c, bool from_stdin, const char *label, char *buf,
    size_t size, struct err *err)
{
	return read_pw(c, from_stdin, label, buf, size, true, err);
}

static int
read_pw(struct cli *c, bool from_stdin, const char *label, char *buf,
    size_t size, bool allow_empty, struct err *err)
{
	char again[PASSWORD_INPUT_MAX + 2];
	ssize_t n;
	int fd;

	(void)c;
	if (from_stdin) {
		if (isatty(STDIN_FILENO)) {
			err_set(err, ERR_INVALID,
			    "refusing to read a password from an interactive stdin with --password-stdin");
			return err_hint(err,
			    "pipe it in (printf '%%s\\n' \"$PW\" | postino ...), or drop --password-stdin to be prompted");
		}
		n = read_line(STDIN_FILENO, buf, size);
		if (n == -2)
			return err_set(err, ERR_INVALID,
			    "the password is longer than %d bytes",
			    PASSWORD_INPUT_MAX);
		if (n < 0 || (n == 0 && !allow_empty))
			return err_set(
			    err, ERR_INVALID, "empty password on stdin");
		return 0;
	}
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		err_set(
		    err, ERR_INVALID, "no terminal to ask for the password");
		return err_hint(err, "use --password-stdin");
	}
	for (int attempt = 0; attempt < 3; attempt++) {
		char p1[64], p2[64];

		snprintf(p1, sizeof(p1), "%s: ", label);
		snprintf(p2, sizeof(p2), "Repeat for confirmation: ");
		n = prompt_noecho(fd, p1, buf, size);
		if (n == -2) {
			(void)!write(fd, "Too long.\n", 10);
			continue;
		}
		if (n < 0)
			break;
		if (n == 0 && !allow_empty) {
			(void)!write(fd, "Empty password, try again.\n", 27);
			continue;
		}
		n = prompt_noecho(fd, p2, again, sizeof(again));
		if (n >= 0 && strcmp(buf, again) == 0) {
			explicit_bzero(again, sizeof(again));
			close(fd);
			return 0;
		}
		(void)!write(fd, "The passwords differ, try again.\n", 33);
	}
	explicit_bzero(again, sizeof(again));
	explicit_bzero(buf, size);
	close(fd);
	return err_set(err, ERR_INVALID, "no password entered");
}

int
cli_quota(struct cli *c, const char *field, const char *val, int64_t *out,
    struct err *err)
{
	(void)c;
	return quota_parse(field, val, out, err);
}

int
cli_int(struct cli *c, const char *field, const char *val, int64_t min,
    int64_t max, int64_t *out, struct err *err)
{
	(void)c;
	if (str_to_i64(val, out) == -1 || *out < min || *out > max)
		return err_set(err, ERR_INVALID,
		    "invalid %s '%.32s': expected an integer from %lld to %lld",
		    field, val, (long long)min, (long long)max);
	return 0;
}
