#!/usr/bin/python3
"""Writes the raw seed inputs of each fuzz target into OUT/<target>/ (tests/fuzz/README.md).

The committed corpora (tests/fuzz/corpus/<target>) are these seeds plus what fuzzing found,
minimised with libFuzzer's -merge=1; this script is how the seeds were made, rerun it when a
format changes:

    tests/fuzz/make_seeds.py OUT [path/to/edgeos]

Sources: the examples (scenarios and the head of each sample trace), the malformed inputs of
tests/workloads, the scenarios written inline in the C++ tests (raw strings), a few hand-made
cases per format, and compiled scenarios (`edgeos check X.toml --compile`, from the examples with
a shortened duration) when an edgeos program is given. Standard library only.
"""
import os
import re
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(ROOT, "examples")
MALFORMED = os.path.join(ROOT, "tests", "workloads", "malformed")


def write(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def head_lines(path, n):
    return b"".join(read(path).splitlines(keepends=True)[:n])


def scenario_seeds(out):
    for name in sorted(os.listdir(EXAMPLES)):
        if name.endswith(".toml"):
            write(out, "scenario", "example-" + name, read(os.path.join(EXAMPLES, name)))
    for name in sorted(os.listdir(MALFORMED)):
        if name.endswith(".toml"):
            write(out, "scenario", "malformed-" + name, read(os.path.join(MALFORMED, name)))
    # Raw-string scenarios of the C++ tests.
    for d in ("simulator/tests", "workloads/tests", "tests/golden"):
        for name in sorted(os.listdir(os.path.join(ROOT, d))):
            if not name.endswith(".cpp"):
                continue
            text = read(os.path.join(ROOT, d, name)).decode()
            for i, m in enumerate(re.finditer(r'R"\((.*?)\)"', text, re.S)):
                if "[scenario]" in m.group(1):
                    write(out, "scenario", "test-%s-%d.toml" % (name[:-4], i), m.group(1))
    head = '[scenario]\nname = "x"\nduration = "1s"\n[[tenant]]\nname = "t"\n'
    sporadic = '[[thread]]\nname = "a"\ntenant = "t"\nrelease = "sporadic"\nperiod = "1ms"\ndeadline = "1ms"\ncost = "10us"\n'
    cases = {
        "poisson": 'kind = "poisson"\ntarget = "a"\nrate = "500/s"\n',
        "mmpp": 'kind = "mmpp"\ntarget = "a"\nrates = ["100/s", "2k/s"]\nsojourn = ["100ms", "10ms"]\ntransitions = [[0, 1], [1, 0]]\n',
        "iot": 'kind = "iot"\ntarget = "a"\nsensors = 3\nperiod = "10ms"\njitter = "1ms"\n[[workload.burst]]\nat = "200ms"\ncount = 50\nwithin = "5ms"\n',
        "kv": 'kind = "kv"\ntarget = "a"\nrate = "1k/s"\nget_ratio = 0.9\ncost_base = "2us"\ncost_per_kib = "1us"\n',
        "trace-csv": 'kind = "trace"\nfile = "traces/kv-sample.csv"\ntarget = "a"\n',
        "trace-jsonl": 'kind = "trace"\nfile = "traces/iot-sample.jsonl"\ntargets = { plant = "a" }\n',
        "azure": 'kind = "azure"\nfile = "traces/azure-sample.csv"\ntargets = ["a"]\nminutes = "0:2"\nscale = 0.01\ncost = "5us"\n',
        "pcap": 'kind = "pcap"\nfile = "traces/sample.pcap"\nports = { "11211" = "a" }\ncost_base = "1us"\n',
    }
    for kind, body in cases.items():
        write(out, "scenario", "workload-%s.toml" % kind, head + sporadic + '[[workload]]\nname = "w"\n' + body)
    write(out, "scenario", "servers-nic.toml",
          '[scenario]\nname = "n"\nduration = "100ms"\n[[server]]\nname = "s"\ncpus = 2\npolicy = "fp"\n'
          'nic = { model = "e1000", mac = "52:54:00:12:34:57", ipv4 = "10.0.2.16" }\n'
          '[[template]]\nname = "tm"\npool = 2\nmax_instances = 4\n'
          '[[tenant]]\nname = "drv"\nserver = "s"\n[[tenant]]\nname = "echo"\nserver = "s"\ntemplate = "tm"\nudp = [7, 5683]\n'
          '[[thread]]\nname = "d"\ntenant = "drv"\nprogram = "nic-driver"\nperiod = "1ms"\ncost = "100us"\npriority = 9\n'
          '[[thread]]\nname = "e"\ntenant = "echo"\ncpu = 1\nprogram = "udp-echo"\nrelease = "sporadic"\nperiod = "1ms"\n'
          'deadline = "1ms"\ncost = "2400kcycles"\nserver = "sporadic"\nbudget = "200us"\nserver_period = "1ms"\nrefills = 4\n'
          '[[ring]]\nname = "r"\nfrom = "drv"\nto = "echo"\nslots = 8\nslot_size = "2KiB"\n'
          '[[workload]]\nname = "x"\nkind = "poisson"\ntarget = "e"\nrate = "2k/s"\ncost = { dist = "lognormal", median = "20us", sigma = 0.5, max = "1ms" }\n'
          '[[device]]\nname = "dev"\nworkload = "x"\nrequest = "1KiB"\nbandwidth = "100Mbps"\nlatency = "1ms"\n')


def cli_seeds(out):
    values = [
        (0, "2ms"), (0, "1.5s"), (0, "0.000000001s"), (0, "9223372036s"), (0, "1min"), (0, "2h"), (0, "+5us"),
        (1, "18446744073709551615"), (1, "42"), (2, "500/s"), (2, "1.5kHz"), (2, "3/min"), (3, "2.4GHz"), (3, "800MHz"),
        (4, "4KiB"), (4, "1.5MB"), (5, "10ms:1s"), (6, "0.05:1:0.05"), (7, "0.75"), (7, "1e-3"), (8, "5us,2us,3us,1us"),
        (9, "5us,2us,3us,1us,1us"), (10, "best"), (11, "randfixedsum"), (12, "constrained"), (13, "edf"), (14, "a,b:c"),
        (15, "uunifast|10ms:1s|1ms|implicit"), (15, "randfixedsum|1ns:9223372036s|1ns|constrained"),
        (16, "\x01\x00\x00\x00\x00\x00\x00\x80"), (16, "\xff\xff\xff\xff\xff\xff\xff\x7f"),
    ]
    for i, (parser, text) in enumerate(values):
        write(out, "cli", "seed-%02d" % i, bytes([parser]) + text.encode("latin-1"))


def trace_seeds(out):
    traces = os.path.join(EXAMPLES, "traces")
    write(out, "trace_csv", "kv-sample-head.csv", head_lines(os.path.join(traces, "kv-sample.csv"), 12))
    write(out, "trace_csv", "units.csv", "time_ms,tenant,kind,size_bytes,cost_us,deadline_s\n0.5,plant,get,10,1.5,0.001\n1,cache,set,4096,2,1\n")
    write(out, "trace_csv", "minimal.csv", "time_us,tenant\n1,a\n2,t\n")
    write(out, "trace_jsonl", "iot-sample-head.jsonl", head_lines(os.path.join(traces, "iot-sample.jsonl"), 12))
    write(out, "trace_jsonl", "units.jsonl",
          '{"format":"edgeos-arrivals","version":1,"units":{"time":"ms","cost":"us","deadline":"s"}}\n'
          '{"time":0.5,"tenant":"cache","kind":"get","size":100,"cost":3,"deadline":0.001}\n'
          '{"time":1,"tenant":"a","kind":"set"}\n')
    for name in sorted(os.listdir(MALFORMED)):
        path = os.path.join(MALFORMED, name)
        if name.endswith(".csv") and name != "not-azure.csv":
            write(out, "trace_csv", "malformed-" + name, read(path))
        elif name.endswith(".jsonl"):
            write(out, "trace_jsonl", "malformed-" + name, read(path))
    write(out, "trace_azure", "azure-sample-head.csv", head_lines(os.path.join(traces, "azure-sample.csv"), 3))
    write(out, "trace_azure", "malformed-not-azure.csv", read(os.path.join(MALFORMED, "not-azure.csv")))
    header = "HashOwner,HashApp,HashFunction,Trigger," + ",".join(str(m) for m in range(1, 1441)) + "\n"
    row = "o,a,f,http," + ",".join("1" if m % 7 == 0 else "0" for m in range(1440)) + "\n"
    write(out, "trace_azure", "sparse.csv", header + row + row.replace("http", "timer"))
    # pcap: the sample's first packets, and hand-made files of each link type and magic.
    sample = read(os.path.join(traces, "sample.pcap"))
    n, off = 0, 24
    while off + 16 <= len(sample) and n < 8:
        off += 16 + struct.unpack_from("<I", sample, off + 8)[0]
        n += 1
    write(out, "trace_pcap", "sample-head.pcap", sample[:off])
    write(out, "trace_pcap", "malformed-garbage.pcap", read(os.path.join(MALFORMED, "garbage.pcap")))

    def pcap(magic, link, packets, endian="<"):
        b = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 65535, link)
        for ts, frame in packets:
            b += struct.pack(endian + "IIII", ts, 1000, len(frame), len(frame) + 100) + frame
        return b

    udp4 = bytes([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]) + struct.pack(">HHHH", 1234, 11211, 8, 0)
    tcp6 = bytes([0x60, 0, 0, 0, 0, 20, 6, 64]) + bytes(32) + struct.pack(">HH", 1234, 5683) + bytes(16)
    eth = bytes(12)
    write(out, "trace_pcap", "ethernet-usec.pcap", pcap(0xa1b2c3d4, 1, [(1, eth + b"\x08\x00" + udp4), (2, eth + b"\x86\xdd" + tcp6)]))
    write(out, "trace_pcap", "raw-nsec-big-endian.pcap", pcap(0xa1b23c4d, 101, [(1, udp4), (1, tcp6)], ">"))
    write(out, "trace_pcap", "ipv4-link.pcap", pcap(0xa1b2c3d4, 228, [(5, udp4)]))
    write(out, "trace_pcap", "linux-sll.pcap", pcap(0xa1b2c3d4, 113, [(7, bytes(14) + b"\x08\x00" + udp4)]))

    # pcapng (libpcap reads it too): section header, interface description, enhanced packets.
    def block(kind, body):
        body += bytes(-len(body) % 4)
        return struct.pack("<II", kind, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))

    frame = eth + b"\x08\x00" + udp4
    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb = block(1, struct.pack("<HHI", 1, 0, 65535))
    epb = [block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame)) + frame)
           for ts in (1000000, 2000000)]
    write(out, "trace_pcap", "ethernet.pcapng", shb + idb + b"".join(epb))


def blob_seeds(out, edgeos):
    # Compiled examples, with durations short enough for small blobs.
    with tempfile.TemporaryDirectory() as tmp:
        # Relative paths in the examples (traces/, platforms/) resolve next to the copies.
        for d in ("traces", "platforms"):
            os.symlink(os.path.join(EXAMPLES, d), os.path.join(tmp, d))
        for name in sorted(os.listdir(EXAMPLES)):
            if not name.endswith(".toml"):
                continue
            text = read(os.path.join(EXAMPLES, name)).decode()
            for duration in ("5ms", "50ms"):
                short = re.sub(r'(?m)^duration\s*=\s*"[^"]*"', 'duration = "%s"' % duration, text, count=1)
                src = os.path.join(tmp, name)
                with open(src, "w") as f:
                    f.write(short)
                dst = os.path.join(tmp, name + ".bin")
                r = subprocess.run([edgeos, "check", src, "--compile", dst], capture_output=True, text=True)
                if r.returncode == 0 and os.path.getsize(dst) <= 65536:
                    write(out, "blob", "%s-%s.bin" % (name[:-5], duration), read(dst))
                    break


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out = sys.argv[1]
    scenario_seeds(out)
    cli_seeds(out)
    trace_seeds(out)
    if len(sys.argv) == 3:
        blob_seeds(out, sys.argv[2])
    for target in sorted(os.listdir(out)):
        print("%s: %d seeds" % (target, len(os.listdir(os.path.join(out, target)))))


if __name__ == "__main__":
    main()
