/*
 * util.c: terminal interaction for the CLI: confirmations and password
 * entry.  Passwords are read without echo from /dev/tty (never from argv or
 * the environment), or as one line from stdin with --password-stdin; the
 * prompt goes to the terminal, never to stdout, so --json output stays
 * clean.  Echo comes back on every way out of a prompt, signals included.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "addr.h"
#include "cli.h"
#include "password.h"
#include "strutil.h"
#include "banned.h"

/*
 * Read one line from fd into buf (no more than size-1 bytes).  Returns its
 * length, -1 on a read error, -2 if it is too long (the rest of the line is
 * swallowed), -3 at end of input before any byte (Ctrl-D on a terminal).
 */
static ssize_t
read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r = 0;

	while (n + 1 < size) {
		char ch;

		r = read(fd, &ch, 1);
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
	buf[n] = '\0';
	if (r == -1)
		return -1;
	if (n == 0)
		return -3;
done:
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (ssize_t)n;
}

/*
 * Confirmations read the answer the way Python postino (Click) did: from
 * stdin, so "echo y | postino alias del ..." answers the question; on a
 * terminal stdin is the terminal.  The question goes to stderr, never to
 * stdout.  End of input, like any answer but y or yes, declines.
 */
bool
cli_confirm(struct cli *c, const char *fmt, ...)
{
	char q[512], ans[16];
	va_list ap;
	ssize_t n;

	(void)c;
	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s [y/N]: ", q);
	fflush(stderr);
	n = read_line(STDIN_FILENO, ans, sizeof(ans));
	if (!isatty(STDIN_FILENO) || n == -3)
		fputc('\n', stderr);
	if (n <= 0)
		return false;
	return strcasecmp(ans, "y") == 0 || strcasecmp(ans, "yes") == 0;
}

/*
 * The terminal state to put back, for the signal handlers: a password
 * prompt turns echo off, and whatever ends the process while it is off
 * (Ctrl-C, Ctrl-\, a hangup, a kill) must turn it on again first.
 */
static volatile sig_atomic_t tty_saved_fd = -1;
static struct termios tty_saved;
static struct termios tty_noecho;

static const int tty_signals[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTSTP };
#define TTY_NSIGNALS (sizeof(tty_signals) / sizeof(tty_signals[0]))
static struct sigaction tty_oldact[TTY_NSIGNALS];

static void
tty_on_signal(int sig)
{
	int saved_errno = errno;
	int fd = tty_saved_fd;
	struct sigaction act;
	sigset_t set;

	if (fd != -1) {
		(void)tcsetattr(fd, TCSANOW, &tty_saved);
		(void)!write(fd, "\n", 1);
	}
	/* Die (or stop) the way the signal would have made us. */
	memset(&act, 0, sizeof(act));
	act.sa_handler = SIG_DFL;
	sigemptyset(&act.sa_mask);
	(void)sigaction(sig, &act, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
	(void)raise(sig);
	/* Still here: continued after a stop.  Back to the prompt. */
	(void)sigprocmask(SIG_BLOCK, &set, NULL);
	act.sa_handler = tty_on_signal;
	(void)sigaction(sig, &act, NULL);
	if (fd != -1)
		(void)tcsetattr(fd, TCSANOW, &tty_noecho);
	errno = saved_errno;
}

static ssize_t
prompt_noecho(int fd, const char *label, char *buf, size_t size)
{
	struct sigaction act;
	ssize_t n;

	if (tcgetattr(fd, &tty_saved) == -1)
		return -1;
	tty_noecho = tty_saved;
	tty_noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	tty_noecho.c_lflag |= ICANON;
	memset(&act, 0, sizeof(act));
	act.sa_handler = tty_on_signal;
	sigemptyset(&act.sa_mask);
	for (size_t i = 0; i < TTY_NSIGNALS; i++)
		sigaddset(&act.sa_mask, tty_signals[i]);
	for (size_t i = 0; i < TTY_NSIGNALS; i++) {
		(void)sigaction(tty_signals[i], NULL, &tty_oldact[i]);
		/* An ignored signal (nohup, a background job) stays ignored. */
		if (tty_oldact[i].sa_handler != SIG_IGN)
			(void)sigaction(tty_signals[i], &act, NULL);
	}
	tty_saved_fd = fd;
	/* Echo goes off before the prompt shows: what is typed once it is
	 * visible is never echoed. */
	if (tcsetattr(fd, TCSANOW, &tty_noecho) == -1)
		n = -1;
	else {
		(void)!write(fd, label, strlen(label));
		n = read_line(fd, buf, size);
	}
	(void)tcsetattr(fd, TCSANOW, &tty_saved);
	tty_saved_fd = -1;
	for (size_t i = 0; i < TTY_NSIGNALS; i++)
		(void)sigaction(tty_signals[i], &tty_oldact[i], NULL);
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
pw_eof(struct err *err)
{
	err_set(
	    err, ERR_INVALID, "aborted: end of input at the password prompt");
	return err_hint(err,
	    "nothing was changed; pipe the password with --password-stdin to script it");
}

/*
 * No terminal at all (cron, ssh without a tty) and stdin is not one
 * either: read the password and its confirmation as two lines of stdin,
 * as Python's getpass fell back to.  --password-stdin (one line) is the
 * way to script it; this is kept for scripts written for Python postino.
 */
static int
read_pw_piped(const char *label, char *buf, size_t size, bool allow_empty,
    struct err *err)
{
	char again[PASSWORD_INPUT_MAX + 2];
	ssize_t n;

	fprintf(stderr,
	    "warning: no terminal; reading the %s and its confirmation as two lines of stdin (use --password-stdin for one)\n",
	    label);
	n = read_line(STDIN_FILENO, buf, size);
	if (n == -3) {
		err_set(err, ERR_INVALID,
		    "no terminal to ask for the password, and stdin is empty");
		return err_hint(err, "use --password-stdin");
	}
	if (n == -2)
		return err_set(err, ERR_INVALID,
		    "the password is longer than %d bytes", PASSWORD_INPUT_MAX);
	if (n < 0 || (n == 0 && !allow_empty)) {
		explicit_bzero(buf, size);
		return err_set(err, ERR_INVALID, "empty password on stdin");
	}
	n = read_line(STDIN_FILENO, again, sizeof(again));
	if (n < 0 || strcmp(buf, again) != 0) {
		explicit_bzero(again, sizeof(again));
		explicit_bzero(buf, size);
		err_set(err, ERR_INVALID,
		    n == -3
			? "no confirmation line after the password on stdin"
			: "the password and its confirmation on stdin differ");
		return err_hint(
		    err, "send it twice, or once with --password-stdin");
	}
	explicit_bzero(again, sizeof(again));
	return 0;
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
		if (!isatty(STDIN_FILENO))
			return read_pw_piped(
			    label, buf, size, allow_empty, err);
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
		if (n == -3)
			break;
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
	if (n == -3)
		return pw_eof(err);
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
