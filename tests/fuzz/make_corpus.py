#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz (corpus/<target>/): a few valid inputs for each reader,
so the fuzzer starts from files that reach deep into it, and the reproducers of the bugs that
issue 9 found. The binary ones (IDX, weights, tuning checksums) are easier to state here than to
edit by hand. Run it from anywhere; it rewrites only the files it names. Reproducers that a
fuzz run finds are added to corpus/<target>/ by hand, named after what they break."""
import gzip
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def gz(data):
    # mtime 0: the same bytes on every run
    return gzip.compress(data, mtime=0)


# --- IDX (big-endian: magic, dimensions, payload) ---------------------------------------------
def idx(magic, dims, payload):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload


LABELS, IMAGES = 0x801, 0x803
labels = idx(LABELS, [5], bytes([9, 0, 0, 3, 0]))
images = idx(IMAGES, [2, 3, 3], bytes(range(0, 180, 10)))
write("idx", "labels-5", labels)
write("idx", "labels-5.gz", gz(labels))
write("idx", "images-2x3x3", images)
write("idx", "images-2x3x3.gz", gz(images))
write("idx", "truncated.gz", gz(images)[:20])
# Issue 9: absurd dimensions and counts that do not match the payload.
write("idx", "absurd-dims", idx(IMAGES, [0xFFFFFFFF, 0x10000, 0x10000], b"\0" * 16))
write("idx", "largest-claim-no-payload", idx(IMAGES, [10000000, 4096, 4096], b""))
write("idx", "count-more-than-payload", idx(LABELS, [10], bytes(5)))
write("idx", "count-less-than-payload", idx(LABELS, [2], bytes(4)))
write("idx", "count-more-than-payload.gz", gz(idx(IMAGES, [3, 3, 3], bytes(18))))

# --- weights (little-endian; format in include/claug/weights.h) -------------------------------
def u32(v):
    return struct.pack("<I", v)


def weights(model, c, h, w, classes, tensors):
    b = b"CLAUGWTS" + u32(1) + u32(len(model)) + model.encode() + u32(c) + u32(h) + u32(w) + u32(classes)
    b += u32(len(tensors))
    for name, dims, values in tensors:
        b += u32(len(name)) + name.encode() + u32(len(dims)) + b"".join(u32(d) for d in dims)
        b += b"".join(struct.pack("<f", v) for v in values)
    return b + u32(zlib.crc32(b))


tiny = weights("flatten,dense10,softmax", 1, 2, 2, 10,
               [("dense/kernel", [10, 4], [0.01 * i for i in range(40)]), ("dense/bias", [10], [0.0] * 10)])
write("weights", "flatten-dense10", tiny)
write("weights", "conv-dense", weights("conv2x2,relu,flatten,dense10,softmax", 1, 3, 3, 10, [
    ("conv2d/kernel", [2, 1, 2, 2], [0.5] * 8), ("conv2d/bias", [2], [0.0, 1.0]),
    ("dense/kernel", [10, 8], [-0.25] * 80), ("dense/bias", [10], [0.0] * 10)]))
write("weights", "bad-crc", tiny[:-4] + bytes(b ^ 0xFF for b in tiny[-4:]))
# Issue 9: dimensions whose product, 65536^4 = 2^64, wrapped the count to 0.
write("weights", "dims-65536-pow4", weights("flatten,dense10,softmax", 1, 2, 2, 10,
                                             [("dense/kernel", [65536] * 4, [1.0] * 4)]))

# --- .npz (NumPy's format: a zip of .npy arrays; include/claug/model/npz.h) ----------------------
import io
import zipfile


def npy(descr, shape, payload):
    """An .npy of version 1.0 as NumPy writes it: the dict padded with blanks to 64 bytes."""
    dims = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, dims)
    header += " " * ((-(10 + len(header) + 1)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload


def npz(arrays, compress=False):
    """The zip np.savez (np.savez_compressed) writes: zip64 local headers, fixed dates."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for name, data in arrays:
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            with z.open(info, "w", force_zip64=True) as f:
                f.write(data)
    return out.getvalue()


def floats(values):
    return b"".join(struct.pack("<f", v) for v in values)


def model_arrays(model, hwc, tensors):
    return [(name, npy("<f4", shape, floats(values))) for name, shape, values in tensors] + [
        ("model", npy("<U%d" % len(model), (), model.encode("utf-32-le"))),
        ("input_shape", npy("<i4", (3,), b"".join(struct.pack("<i", v) for v in hwc)))]


tiny_npz = model_arrays("flatten,dense10,softmax", (2, 2, 1), [
    ("dense/kernel", (4, 10), [0.01 * i for i in range(40)]), ("dense/bias", (10,), [0.0] * 10)])
write("npz", "flatten-dense10", npz(tiny_npz))
write("npz", "flatten-dense10-deflate", npz(tiny_npz, compress=True))
write("npz", "conv-dense", npz(model_arrays("conv2x2,relu,flatten,dense10,softmax", (3, 3, 1), [
    ("conv2d/kernel", (2, 2, 1, 2), [0.5] * 8), ("conv2d/bias", (2,), [0.0, 1.0]),
    ("dense/kernel", (8, 10), [-0.25] * 80), ("dense/bias", (10,), [0.0] * 10)])))
write("npz", "empty", npz([]))

# --- tuning (for the fake device of fuzz_tuning.c; format in host/tune/tuning.c) ---------------------
DEVICE = {"device": "fuzz-device", "vendor": "fuzz-vendor", "driver": "1.0", "platform_version": "OpenCL 1.2 fuzz"}


def tuning(lines, device=DEVICE):
    body = "claug tuning v1\n" + "".join(f"{k} = {v}\n" for k, v in device.items()) + "".join(
        f"{k} = {v}\n" for k, v in lines)
    h = 0xCBF29CE484222325
    for byte in body.encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return body + f"checksum = {h:016x}\n"


def conv(local_tiles, splits=0):
    return [("batch_size", 32), ("conv.local_tiles", local_tiles), ("conv.tp", 4), ("conv.cb", 2), ("conv.wt", 4),
            ("conv.wcb", 1), ("conv.kfast", 3), ("conv.lws", 64), ("conv.tm", 64), ("conv.tn", 32),
            ("conv.kc", 16), ("conv.rm", 4), ("conv.rn", 4), ("conv.splits", splits)]


write("tuning", "cpu-defaults", tuning(conv(0) + [("clblast.min_indirect_size", 0)]))
write("tuning", "gpu-clblast", tuning(conv(1, 8) + [
    ("clblast.min_indirect_size", 256), ("clblast.XgemmDirect.WGD", 32), ("clblast.XgemmDirect.MDIMCD", 8),
    ("clblast.XgemmDirect.NDIMCD", 8), ("clblast.XgemmDirect.VWMD", 2), ("clblast.Xgemm.MWG", 64),
    ("clblast.Xgemm.NWG", 64), ("clblast.Xgemm.KWG", 16)]))
write("tuning", "other-device", tuning(conv(0) + [("clblast.min_indirect_size", 0)],
                                       dict(DEVICE, device="another-device")))
write("tuning", "no-checksum", tuning(conv(0) + [("clblast.min_indirect_size", 0)]).rsplit("checksum", 1)[0])
# Issue 9: every XgemmDirect value 4096, which CLBlast accepts but cannot compile; the parser
# must take it (the check by use at load refuses it).
write("tuning", "xgemmdirect-4096", tuning(conv(0) + [("clblast.min_indirect_size", 2097152)] + [
    (f"clblast.XgemmDirect.{k}", 4096) for k in ("WGD", "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD", "KWID", "VWMD",
                                                 "VWND", "PADA", "PADB")]))

# --- model strings ---------------------------------------------------------------------------
for name, spec in [
    ("seed", "seed"), ("seed-dropout", "seed-dropout"),
    ("seed-spelled", "conv32x3,relu,conv32x3,relu,maxpool2,conv32x3,relu,maxpool2,flatten,dense128,relu,dense10,"
                     "softmax"),
    ("dropout-blanks-case", " Conv8x5 , RELU,maxpool3,dropout0.25, flatten,dense64,relu,dropout0.5,dense10,softmax"),
    ("dense-only", "dense10,softmax"),
    # Issue 9: empty tokens were skipped silently; now an error naming their position.
    ("empty-tokens", "conv4x3,,,relu,flatten,dense10,softmax"),
    ("trailing-comma", "flatten,dense10,softmax,"), ("leading-comma", ",flatten,dense10,softmax"),
    ("blank-token", "conv4x3, ,relu,flatten,dense10,softmax"),
    # Found by fuzz_model: the canonical token of this rate was "dropout1", which eval refused,
    # and a rate that rounds to 1 as a float was taken.
    ("dropout-canonical-1", "flatten,dropout0.9999999,dense10,softmax"),
    ("dropout-float-1", "flatten,dropout0.99999999,dense10,softmax"),
]:
    write("model", name, spec)

# --- command lines: one argument per line ----------------------------------------------------
for name, args in [
    ("run", ["run", "--epochs", "1", "--train-size", "1000", "--out", "r", "--plain-only", "-q"]),
    ("train", ["-d", "pocl", "train", "--model", "seed-dropout", "--save", "w.bin", "--csv", "h.csv", "--lr=0.01",
               "--batch-size", "64", "--profile", "--seed=7"]),
    ("augment", ["augment", "-i", "3", "-n7", "--dump", "d", "--rotation-range", "10", "--zoom-range", "0.9,1.1",
                 "--fill-mode", "constant", "--cval", "0.5", "--brightness-range", "0.8,1.2", "--horizontal-flip",
                 "--width-shift-range", "2", "--height-shift-range", "0.1", "--shear-range", "5"]),
    ("eval", ["eval", "--weights", "w.bin", "--data", "/d", "--kernels", "cl"]),
    ("bench-compare", ["bench", "--compare", "a.json", "b.json"]),
    ("bench", ["bench", "--repeats", "3", "--json", "b.json"]),
    ("tune", ["tune", "--quick", "--batch-size", "128"]),
    ("samples", ["samples", "-o", "s.png", "-n", "10"]),
    ("devices-help", ["devices", "--help"]),
    # Issue 9: a leading blank turned -1 into 18446744073709551615; these learning rates trained
    # to nan or not at all.
    ("seed-blank-minus-one", ["train", "--seed", " -1"]),
    ("lr-1e300", ["train", "--lr", "1e300"]),
    ("lr-1e-50", ["run", "--lr", "1e-50"]),
]:
    write("cli", name, "".join(a + "\n" for a in args))

# --- JSON: a shortened `claug bench --json` file and the corners of RFC 8259 -------------------
BENCH = """{
  "claug_version": "0.1.0",
  "git_commit": "9695d2ec2f98",
  "date": "2026-12-02T02:57:34Z",
  "device": {"name": "pthread-skylake-avx512", "vendor": "GenuineIntel", "type": "CPU", "driver": "3.1+debian",
             "compute_units": 2, "clock_mhz": 2600, "global_memory_bytes": 5305067520, "max_work_group_size": 4096},
  "batch_size": 8,
  "repeats": 3,
  "tuning": "convolution default parameters (run `claug tune`)",
  "peak_gflops": 84.0964920511273,
  "copy_gbs": 8.518459266936473,
  "items": [
    {"name": "FP32 peak (FMA chains)", "detail": "1024 x 12 float8 chains x 16384", "unit": "s",
     "median": 0.038303922000000004, "min": 0.032538450000000003, "max": 0.039304086, "repeats": 3,
     "timing": "events", "rate": 84.0964920511273, "rate_unit": "GFLOP/s", "share_of_peak": 1, "bound": "compute"},
    {"name": "conv2d forward", "unit": "s", "median": 1.5e-3, "min": 1.4E-3, "max": 2e+0, "rate": null,
     "share_of_peak": 0.25, "bound": "memory", "ok": true, "cached": false}
  ],
  "kernels": []
}
"""
write("json", "bench", BENCH)
write("json", "strings", '["plain", "esc \\" \\\\ \\/ \\b \\f \\n \\r \\t", "\\u00e9\\u20ac\\ud83d\\ude00", '
                         '"raw \u00e9\u20ac\U0001F600", "", "\\u0041"]')
write("json", "numbers", "[0, -0, 1, -1, 0.5, -0.0e0, 1e308, 1e-400, 123456789012345678901234567890, 2.5E-3]")
write("json", "deepest", "[" * 64 + "1" + "]" * 64)
write("json", "too-deep", "[" * 65 + "]" * 65)
write("json", "duplicate-key", '{"a": 1, "a": 2}')
write("json", "lone-surrogate", '["\\ud800"]')
write("json", "scalar", ' \t\r\n"x"\n')
