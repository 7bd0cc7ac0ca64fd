#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Inject machine checks into a QEMU (TCG) guest at a chosen instruction.

    mce-inject.py CONSOLE MONITOR GDB VMLINUX [SYMBOL PATTERN]

The guest asks for it with a console line
    egm-mce: inject pa=0xPA buf=0xBUF n=N
and then keeps reading the page at physical address PA into the user
buffer BUF.  We plant a breakpoint (QEMU's gdbstub, socket GDB) on the
instruction of SYMBOL whose disassembly holds PATTERN (default: the 8-byte
load of copy_mc_fragile(), the machine-check-safe copy the guest uses with
mce=recovery), and at the first hit whose destination (rdi) lies in BUF we
raise an SRAR data-load machine check for PA on that vCPU through the HMP
command "mce" (socket MONITOR).  With N = 2 the next hit of the same vCPU
on the same source page gets one too: the kernel reads a word again to tell
poison from a fault on BUF, and real poison fails every read.  Then we
detach.  The machine check is taken at the breakpoint's address: TCG takes
pending interrupts before it executes the next instruction.

Status UC|EN|VAL|ADDRV|MISCV|S|AR, MCACOD 0x134 (data load); MCG_STATUS
MCIP|EIPV|RIPV; MISC: physical address, LSB 6.  Lines "mce-inject: ..."
go to stdout.
"""
import re
import socket
import subprocess
import sys
import time

STATUS = 0xbd80000000000134
MCG_STATUS = 0x7
MISC = 0x86
TIMEOUT = 1500          # s: the whole suite may run before the request


def log(msg):
    print("mce-inject: " + msg, flush=True)


def insn_address(vmlinux, symbol, pattern):
    """Address of SYMBOL's first instruction whose text holds PATTERN."""
    out = subprocess.run(["nm", vmlinux], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"^([0-9a-f]+) [tT] %s$" % re.escape(symbol), out, re.M)
    if not m:
        raise SystemExit("mce-inject: no symbol %s in %s" % (symbol, vmlinux))
    start = int(m.group(1), 16)
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn",
                          "--start-address=%#x" % start,
                          "--stop-address=%#x" % (start + 0x100), vmlinux],
                         capture_output=True, text=True, check=True).stdout
    for line in dis.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+(.*)$", line)
        if m and pattern in m.group(2):
            return int(m.group(1), 16)
    raise SystemExit("mce-inject: no '%s' in %s" % (pattern, symbol))


class Gdb:
    """The few packets of the GDB remote protocol we need."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.buf = b""

    def send(self, data):
        pkt = "$%s#%02x" % (data, sum(data.encode()) % 256)
        self.s.sendall(pkt.encode())

    def recv(self, timeout=None):
        self.s.settimeout(timeout)
        while True:
            m = re.search(rb"\$([^#]*)#..", self.buf)
            if m:
                self.buf = self.buf[m.end():]
                self.s.sendall(b"+")
                return m.group(1).decode()
            chunk = self.s.recv(4096)
            if not chunk:
                raise EOFError("gdbstub closed")
            self.buf += chunk.replace(b"+", b"")

    def cmd(self, data):
        """A command and its reply, past stop notifications still queued."""
        self.send(data)
        while True:
            reply = self.recv(30)
            if data[0] in "?cs" or reply[:1] not in ("T", "S"):
                return reply


class Monitor:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.s.settimeout(30)
        self.read_prompt()

    def read_prompt(self):
        out = b""
        while not out.endswith(b"(qemu) "):
            out += self.s.recv(4096)
        return out.decode(errors="replace")

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\n")
        return self.read_prompt()


def wait_request(console):
    deadline = time.time() + TIMEOUT
    pat = re.compile(r"egm-mce: inject pa=(0x[0-9a-f]+) buf=(0x[0-9a-f]+) n=(\d)")
    while time.time() < deadline:
        try:
            with open(console, errors="replace") as f:
                m = pat.search(f.read())
        except FileNotFoundError:
            m = None
        if m:
            return int(m.group(1), 16), int(m.group(2), 16), int(m.group(3))
        time.sleep(0.5)
    return None


def main():
    if len(sys.argv) not in (5, 7):
        raise SystemExit(__doc__)
    console, monitor, gdbsock, vmlinux = sys.argv[1:5]
    symbol, pattern = (sys.argv[5:7] if len(sys.argv) == 7 else
                       ("copy_mc_fragile", "mov    (%rsi),%r8"))
    bp = insn_address(vmlinux, symbol, pattern)
    req = wait_request(console)
    if not req:
        log("no request from the guest")
        return
    pa, buf, n = req
    log("request: pa %#x buf %#x, %d machine checks at %s %#x"
        % (pa, buf, n, symbol, bp))
    mon = Monitor(monitor)
    gdb = Gdb(gdbsock)
    gdb.cmd("?")
    reply = gdb.cmd("Z1,%x,1" % bp)
    if reply != "OK":
        raise SystemExit("mce-inject: cannot set the breakpoint: " + reply)
    try:
        done, hits = inject(gdb, mon, bp, pa, buf, n)
    except (EOFError, OSError) as e:
        # A machine check the kernel cannot recover from ends QEMU.
        log("the guest went away: %s" % e)
        return
    log("done: %d machine checks, %d breakpoint hits" % (done, hits))


def inject(gdb, mon, bp, pa, buf, n):
    """Run the guest to the breakpoint until N machine checks are raised."""
    done, tid, page, hits = 0, None, None, 0
    while done < n and hits < 1000:
        gdb.send("c")
        stop = gdb.recv(120)
        hits += 1
        m = re.search(r"thread:([0-9a-f.p]+);", stop)
        thread = m.group(1) if m else "1"
        gdb.cmd("Hg" + thread)
        regs = gdb.cmd("g")
        reg = [int.from_bytes(bytes.fromhex(regs[i * 16:i * 16 + 16]),
                              "little") for i in range(17)]
        rsi, rdi, rip = reg[4], reg[5], reg[16]
        if (not buf <= rdi < buf + 4096 if done == 0 else
                thread != tid or rsi >> 12 != page):
            # Not ours: step over the breakpoint (TCG would stop on it
            # again at once), then plant it again.
            gdb.cmd("z1,%x,1" % bp)
            gdb.cmd("Hc" + thread)
            gdb.send("s")
            gdb.recv(30)
            gdb.cmd("Z1,%x,1" % bp)
            continue
        tid, page = thread, rsi >> 12
        cpu = int(thread.split(".")[-1], 16) - 1
        out = mon.cmd("mce %d 1 %#x %#x %#x %#x" % (cpu, STATUS, MCG_STATUS,
                                                  pa, MISC))
        done += 1
        log("machine check %d on cpu %d at rip %#x (rsi %#x rdi %#x)%s"
            % (done, cpu, rip, rsi, rdi,
               "" if "mce" not in out.split("\n", 1)[-1] else ": " + out))
    gdb.cmd("z1,%x,1" % bp)
    gdb.send("D")
    return done, hits


if __name__ == "__main__":
    main()
