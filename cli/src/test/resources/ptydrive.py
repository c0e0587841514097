# pty driver for DebugPtyIT: runs argv on a pseudo-terminal (200x40) and follows the steps on stdin, one per line:
# "expect REGEX" (waits, up to 60 s, for REGEX in the output after the last match, ANSI escapes removed),
# "send TEXT" (Python escapes: \t \r \x03), "sleep SECONDS". Prints the output (escapes removed), then "EXIT n".
import os, pty, re, select, struct, sys, time, fcntl, termios
ANSI = re.compile(rb'\x1b(\[[0-9;?]*[A-Za-z]|[=>])')
steps = [l.rstrip('\n') for l in sys.stdin if l.strip()]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 200, 0, 0))
out = b''
mark = 0
def pump(t):
    global out
    r, _, _ = select.select([fd], [], [], t)
    if not r: return True
    try: d = os.read(fd, 65536)
    except OSError: return False
    if not d: return False
    out += d
    return True
ok = True
for s in steps:
    kind, _, arg = s.partition(' ')
    if kind == 'expect':
        deadline = time.time() + 60
        pat = re.compile(arg.encode())
        while True:
            m = pat.search(ANSI.sub(b'', out), mark)
            if m: mark = m.end(); break
            if time.time() > deadline or not pump(0.1):
                m = pat.search(ANSI.sub(b'', out), mark)
                if m: mark = m.end(); break
                sys.stdout.write('TIMEOUT waiting for ' + arg + '\n'); ok = False; break
        if not ok: break
    elif kind == 'send':
        os.write(fd, arg.encode().decode('unicode_escape').encode('latin-1'))
    elif kind == 'sleep':
        end = time.time() + float(arg)
        while time.time() < end and pump(0.05): pass
end = time.time() + 30
while time.time() < end and pump(0.1): pass
if not ok: os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
sys.stdout.write(ANSI.sub(b'', out).decode('utf-8', 'replace'))
sys.stdout.write('\nEXIT %d\n' % os.waitstatus_to_exitcode(status))
