#!/usr/bin/python3
"""pty-run.py: run a command on a fresh pseudo-terminal, as a person would.

Usage: pty-run.py STEP... -- COMMAND [ARG...]

Each STEP is "expect:TEXT" (wait until TEXT appears on the terminal) or
"send:TEXT" (type TEXT; \\n, \\x03 (Ctrl-C), \\x04 (Ctrl-D) ... are
understood) or "kill:SIGNAME" (send it a signal, e.g. kill:TERM).  The command runs as a session leader with the terminal as its
controlling terminal, stdin, stdout and stderr, so Ctrl-C becomes SIGINT.

When it ends, prints what it wrote (after a "--- output" line) and then
    status=exit:N or status=signal:NAME
    echo=on|off      (the terminal's ECHO flag once the command is gone)
Exits 0 unless the helper itself failed (a step timed out: exit 3).
"""
import fcntl
import os
import select
import signal
import sys
import termios
import time

TIMEOUT = 60


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        sys.exit("usage: pty-run.py STEP... -- COMMAND [ARG...]")
    i = argv.index("--")
    steps, cmd = argv[:i], argv[i + 1:]
    master, slave = os.openpty()
    pid = os.fork()
    if pid == 0:
        os.close(master)
        # The signals a person's terminal session starts with, as a login
        # shell sets them, whatever ours were: a harness run as a
        # background job ignores SIGINT and SIGQUIT, Python ignores
        # SIGPIPE, and an ignored signal survives exec.  A step that wants
        # one ignored says so in its command (sh -c 'trap "" INT; ...').
        for name in ("SIGINT", "SIGQUIT", "SIGTERM", "SIGHUP", "SIGTSTP",
                     "SIGTTIN", "SIGTTOU", "SIGPIPE"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    out = b""

    def pump(deadline):
        nonlocal out
        r, _, _ = select.select([master], [], [], max(0, deadline - time.time()))
        if master in r:
            try:
                data = os.read(master, 4096)
            except OSError:
                data = b""
            out += data
            return len(data) > 0
        return True

    for step in steps:
        kind, _, text = step.partition(":")
        text = text.encode().decode("unicode_escape").encode("latin-1")
        if kind == "expect":
            start = len(out)
            deadline = time.time() + TIMEOUT
            while text not in out[start - len(text) if start > len(text) else 0:]:
                if time.time() > deadline or not pump(deadline):
                    sys.stdout.write(out.decode("utf-8", "replace"))
                    sys.exit("pty-run: timed out waiting for %r" % text)
            # a little later: the prompt is written before echo goes off
            time.sleep(0.2)
        elif kind == "send":
            os.write(master, text)
        elif kind == "kill":
            os.kill(pid, getattr(signal, "SIG" + text.decode()))
        else:
            sys.exit("pty-run: unknown step %r" % step)
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        pump(time.time() + 0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.exit("pty-run: the command did not end")
    while True:
        r, _, _ = select.select([master], [], [], 0.1)
        if not r:
            break
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    attrs = termios.tcgetattr(slave)
    sys.stdout.write("--- output\n")
    sys.stdout.write(out.decode("utf-8", "replace"))
    sys.stdout.write("\n--- end\n")
    if os.WIFSIGNALED(status):
        print("status=signal:%s" % signal.Signals(os.WTERMSIG(status)).name)
    else:
        print("status=exit:%d" % os.WEXITSTATUS(status))
    print("echo=%s" % ("on" if attrs[3] & termios.ECHO else "off"))


main()
