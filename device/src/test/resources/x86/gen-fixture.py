#!/usr/bin/env python3
"""Generates insns.tsv.gz, the fixture of X86DecoderTest, from objdump's disassembly of real code.

Run from this directory: python3 gen-fixture.py  (needs GNU objdump, gcc, python3).
Each line of the fixture: hex bytes, branch kind (INVALID: the processor raises #UD), branch displacement (rel value, or -), RIP-relative
displacement (or -), objdump's text. Instructions are deduplicated by their bytes, and by their
shape (mnemonic and operands with numbers blanked) at most PER_SHAPE of each shape are kept.
Then come the instructions objdump finds in sweeps of the legacy opcode maps (see sweep()) and of
the VEX and EVEX maps (see sweep_vector()), and in
FUZZ random byte strings shaped like instructions (see fuzz()), for the opcodes and prefix
combinations compiled code seldom has.
"""
import gzip, os, re, subprocess, sys, tempfile

PER_SHAPE = 6
LIMIT = 200000
FUZZ = 100000  # random candidates, of which objdump decodes about a third

def sources(tmp):
    java = open('/work/main/.deja-java-home').read().strip() if os.path.exists('/work/main/.deja-java-home') else os.environ.get('JAVA_HOME', '')
    py = subprocess.run([sys.executable, '-c', 'import sys; print(sys.executable)'], capture_output=True, text=True).stdout.strip()
    libs = ['/lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/liblzma.so.5', java + '/lib/server/libjvm.so',
            '/lib/x86_64-linux-gnu/libstdc++.so.6', '/lib/x86_64-linux-gnu/libcrypto.so.3']
    pylib = [os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(py))), 'lib', 'libpython3.11.so.1.0'), os.path.realpath(py)]
    libs += [p for p in pylib if os.path.exists(p)][:1]
    here = os.path.dirname(os.path.abspath(__file__))
    for name, flags in [('avx2', ['-O3', '-mavx2', '-mfma', '-mbmi', '-mbmi2', '-mlzcnt', '-mpopcnt']),
                        ('avx512f', ['-O3', '-mavx512f']),
                        ('skx', ['-O3', '-march=skylake-avx512']),
                        ('spr', ['-O3', '-march=sapphirerapids', '-mavx512fp16', '-DFP16']),
                        ('znver3', ['-O3', '-march=znver3']), ('knl', ['-O3', '-march=knl']),
                        ('sse', ['-O2', '-msse4.2'])]:
        out = os.path.join(tmp, name + '.o')
        subprocess.run(['gcc', '-c', '-o', out, os.path.join(here, 'vec.c')] + flags, check=True)
        libs.append(out)
    return [l for l in libs if os.path.exists(l)]

LINE = re.compile(r'^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(.*)$')
PREFIXES = {'bnd', 'notrack', 'rep', 'repz', 'repnz', 'repe', 'repne', 'lock', 'data16', 'data32', 'addr32', 'addr16',
            'cs', 'ds', 'es', 'fs', 'gs', 'ss', 'xacquire', 'xrelease', '{vex}', '{vex3}', '{evex}'}
SYSTEM = {'syscall', 'sysenter', 'sysexit', 'sysret', 'sysretq', 'sysretl', 'sysexitq', 'sysexitl', 'int', 'int1', 'icebp', 'int3',
          'into', 'iret', 'iretq', 'iretd', 'iretw', 'hlt', 'ud0', 'ud1', 'ud2', 'ud2a', 'ud2b', 'rsm', 'vmcall', 'vmmcall',
          'vmlaunch', 'vmresume', 'vmrun', 'vmgexit', 'uiret', 'xbegin', 'xbeginw', 'encls', 'enclu', 'enclv',
          'tdcall', 'seamret', 'seamcall'}
REL8_OPS = set(range(0x70, 0x80)) | {0xeb, 0xe0, 0xe1, 0xe2, 0xe3}

def words(text):
    ws = text.split()
    i = 0
    while i < len(ws) and (ws[i] in PREFIXES or ws[i].startswith('rex')):
        i += 1
    return ws[:i], ws[i:]

def s32(v):
    """v as a signed 32-bit number, as the instruction holds it (objdump prints wrapped targets)."""
    return ((v + 2**31) % 2**32) - 2**31

def invalid_vex(bs):
    """A VEX, EVEX or XOP prefix after REX, 66, F2, F3 or F0: #UD, though objdump shows an instruction."""
    i, rex, legacy = 0, False, False
    while bs[i] in (0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65, 0xf0) or 0x40 <= bs[i] <= 0x4f:
        rex = 0x40 <= bs[i] <= 0x4f
        legacy = legacy or bs[i] in (0x66, 0xf2, 0xf3, 0xf0)
        i += 1
    vex = bs[i] in (0xc4, 0xc5, 0x62) or bs[i] == 0x8f and i + 1 < len(bs) and (bs[i + 1] & 0x1f) >= 8
    return vex and (rex or legacy)

def opcode_width(bs):
    i = 0
    while bs[i] in (0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65, 0xf0) or 0x40 <= bs[i] <= 0x4f:
        i += 1
    return 1 if bs[i] in REL8_OPS else 4

def kind(mn, ops, bs):
    m = mn.split(',')[0]  # jrcxz,pn: a branch hint
    if re.fullmatch(r'(jmp|call|ret)[wlq]', m):
        m = m[:-1]
    if invalid_vex(bs):
        return 'INVALID'
    if m in ('jmp', 'call'):
        if ops.startswith('*'):
            return 'INDIRECT'
        if m == 'call':
            return 'CALL_REL32'
        return 'JMP_REL8' if opcode_width(bs) == 1 else 'JMP_REL32'
    if m in ('ljmp', 'lcall', 'ljmpq', 'lcallq', 'ljmpw', 'lcallw', 'ljmpl', 'lcalll'):
        return 'INDIRECT'
    if m.startswith('loop') or m in ('jrcxz', 'jecxz'):
        return 'LOOP_REL8'
    if m.startswith('j'):
        return 'JCC_REL8' if opcode_width(bs) == 1 else 'JCC_REL32'
    if m in ('ret', 'lret', 'lretq', 'lretw', 'lretl', 'retw', 'retl'):
        return 'RET'
    if m in SYSTEM:
        return 'SYSTEM'
    return 'NONE'

def mn_of(rest):
    return rest[0]

def row(addr, hexs, text):
    """The fixture's line for one line of objdump's, or None to leave it out."""
    if '(bad)' in text or text.startswith('.byte') or not text:
        return None
    pre, rest = words(text.split('#')[0])
    if not rest:
        return None  # a prefix objdump shows on its own line
    bs = bytes.fromhex(hexs)
    while mn_of(rest) != 'fwait':
        i = 0
        while i < len(bs) - 1 and (bs[i] in (0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65, 0xf0) or 0x40 <= bs[i] <= 0x4f):
            i += 1
        if bs[i] != 0x9b or i + 1 == len(bs):
            break
        # objdump shows WAIT (with any prefixes) and the x87 instruction after it as one
        # (fstcw for fwait; fnstcw); to the processor they are two: keep the second
        bs = bs[i + 1:]
        hexs = bs.hex()
        addr += i + 1
    mn = rest[0]
    ops = ' '.join(rest[1:])
    k = kind(mn, ops, bs)
    rel = '-'
    if k in ('JCC_REL8', 'JCC_REL32', 'JMP_REL8', 'JMP_REL32', 'CALL_REL32', 'LOOP_REL8') or mn in ('xbegin', 'xbeginw'):
        t = re.match(r'(?:0x)?([0-9a-f]+)', ops)
        if t:
            target = int(t.group(1), 16)
            rel = str(s32(target - (addr + len(bs))) if mn != 'xbeginw' else (target - (addr + len(bs)) + 2**15) % 2**16 - 2**15)
    d = re.search(r'(-?0x[0-9a-f]+)?\(%[re]ip\)', ops)
    rip = '-'
    if d:
        rip = str(s32(int(d.group(1), 16))) if d.group(1) else '0'
    shape = mn + ' ' + re.sub(r'<[^>]*>', '', re.sub(r'0x[0-9a-f]+|\b[0-9a-f]{4,}\b', '#', ops)) + ' ' + ' '.join(pre)
    return hexs, shape, '\t'.join([hexs, k, rel, rip, text.split('#')[0].strip()])

def first_insns(candidates, rnd):
    """objdump's lines for the first instruction of each candidate, filled up with random bytes to
    15 and padded with NOPs to 32 bytes so that objdump's linear sweep finds the next one."""
    blob = bytearray()
    for c in candidates:
        c = bytearray(c)
        while len(c) < 15:
            c.append(rnd.randrange(256))
        blob += c[:15] + bytes([0x90] * 17)
    with tempfile.NamedTemporaryFile(suffix='.bin') as f:
        f.write(blob)
        f.flush()
        out = subprocess.run(['objdump', '-D', '-b', 'binary', '-m', 'i386:x86-64', '-M', 'intel64', '--insn-width=16', f.name],
                             capture_output=True, text=True, errors='replace').stdout
    for line in out.splitlines():
        m = LINE.match(line)
        if not m or int(m.group(1), 16) % 32 != 0:
            continue
        r = row(int(m.group(1), 16), m.group(2).replace(' ', ''), m.group(3).strip())
        if r:
            yield r

def sweep(seed):
    """Lines for every opcode of the one-byte, 0F, 0F 38 and 0F 3A maps with some prefixes and
    ModRM forms (register, RIP-relative, SIB, disp8, disp32, each group member), and every ModRM of 0F 01."""
    import random
    rnd = random.Random(seed)
    pres = [b'', b'\x66', b'\xf2', b'\xf3', b'\x48', b'\x66\x48', b'\x67', b'\xf0']
    mods = [b'\x00', b'\x05', b'\x04\x24', b'\x44\x24\x08', b'\x84\x24', b'\xc0', b'\xc8', b'\xd0', b'\xd8', b'\xe0',
            b'\xe8', b'\xf0', b'\xf8', b'\x38', b'\x3d']
    cands = []
    for p in pres:
        ops = [bytes([o]) for o in range(256)] + [bytes([0x0f, o]) for o in range(256)]
        ops += [bytes([0x0f, 0x38, o]) for o in range(256)] + [bytes([0x0f, 0x3a, o]) for o in range(256)]
        cands += [p + op + m for op in ops for m in mods]
        cands += [p + bytes([0x0f, 0x01, m]) for m in range(256)]
    return first_insns(cands, rnd)

def sweep_vector(seed):
    """Lines for every opcode of the VEX maps 0F, 0F 38, 0F 3A and the EVEX maps 0F, 0F 38, 0F 3A, 5
    and 6, with each of their implied prefixes (pp), W and some ModRM forms."""
    import random
    rnd = random.Random(seed)
    mods = [b'\xc1', b'\x05', b'\x04\x24', b'\x44\x24\x08', b'\x84\x24']
    cands = []
    for w in (0, 1):
        for pp in range(4):
            for op in range(256):
                for m in mods:
                    cands += [bytes([0xc4, 0xe0 | mp, w << 7 | 0x78 | pp, op]) + m for mp in (1, 2, 3)]
                    cands += [bytes([0xc5, 0xf8 | pp, op]) + m]
                    cands += [bytes([0x62, 0xf0 | mp, w << 7 | 0x7c | pp, 0x48, op]) + m for mp in (1, 2, 3, 5, 6)]
    return first_insns(cands, rnd)

def fuzz(n, seed):
    """Lines for n random instructions: each 15 random bytes shaped like an instruction (prefixes,
    an opcode of some map, VEX/EVEX/XOP payloads with a defined map); the first instruction of each."""
    import random
    rnd = random.Random(seed)
    cands = []
    for _ in range(n):
        c = bytearray()
        for _ in range(rnd.choice([0, 0, 0, 1, 1, 2])):
            c.append(rnd.choice([0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65]))
        if rnd.random() < 0.4:
            c.append(0x40 | rnd.randrange(16))
        form = rnd.randrange(8)
        if form == 0 or form == 1:
            c.append(rnd.randrange(256))
        elif form == 2:
            c += bytes([0x0f, rnd.randrange(256)])
        elif form == 3:
            c += bytes([0x0f, rnd.choice([0x38, 0x3a]), rnd.randrange(256)])
        elif form == 4:
            c += bytes([0xc5, rnd.randrange(256), rnd.randrange(256)])
        elif form == 5:
            c += bytes([0xc4, (rnd.randrange(8) << 5) | rnd.choice([1, 2, 3]), rnd.randrange(256), rnd.randrange(256)])
        elif form == 6:
            c += bytes([0x62, (rnd.randrange(16) << 4) | rnd.choice([1, 2, 3, 5, 6]), rnd.randrange(256) | 4, rnd.randrange(256), rnd.randrange(256)])
        else:
            c += bytes([0x8f, (rnd.randrange(8) << 5) | rnd.choice([8, 9, 10]), rnd.randrange(256), rnd.randrange(256)])
        cands.append(bytes(c))
    return first_insns(cands, rnd)

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    seen = set()
    shapes = {}
    rows = []
    if len(sys.argv) > 2 and sys.argv[1] == '--fuzz-only':
        for hexs, shape, line in fuzz(int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1):
            print(line)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for src in sources(tmp):
            sys.stderr.write('objdump ' + src + '\n')
            p = subprocess.Popen(['objdump', '-d', '-M', 'intel64', '--insn-width=16', '-j', '.text', src], stdout=subprocess.PIPE, text=True, errors='replace')
            n = 0
            for line in p.stdout:
                m = LINE.match(line)
                if not m:
                    continue
                r = row(int(m.group(1), 16), m.group(2).replace(' ', ''), m.group(3).strip())
                if r is None or r[0] in seen:
                    continue
                hexs, shape, line = r
                seen.add(hexs)
                c = shapes.get(shape, 0)
                if c >= PER_SHAPE:
                    continue
                shapes[shape] = c + 1
                rows.append(line)
                n += 1
            p.wait()
            sys.stderr.write('  %d kept\n' % n)
    for name, extra in [('sweep', sweep(2)), ('vector sweep', sweep_vector(3)), ('fuzz', fuzz(FUZZ, 1))]:
        n = 0
        for hexs, shape, line in extra:
            if hexs not in seen:
                seen.add(hexs)
                rows.append(line)
                n += 1
        sys.stderr.write('%s: %d kept\n' % (name, n))
    rows = rows[:LIMIT]
    with gzip.open(os.path.join(here, 'insns.tsv.gz'), 'wt', compresslevel=9) as f:
        for r in rows:
            f.write(r + '\n')
    sys.stderr.write('%d instructions, %d shapes\n' % (len(rows), len(shapes)))

if __name__ == '__main__':
    main()
