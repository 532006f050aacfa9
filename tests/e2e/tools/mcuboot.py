#!/usr/bin/env python3
"""An MCUboot image checker independent of TinyHSM's code, for the tests.

  mcuboot.py verify --pubkey PEM [--slot-size N] [--align N] IMAGE
      Walks the layout of /work/shared/spec/MCUBOOT.md (header, payload,
      protected TLVs, TLVs) and checks, with the openssl command: the SHA256
      TLV is the SHA-256 of header + payload + protected area; the KEYHASH
      TLV is the SHA-256 of the key's DER SubjectPublicKeyInfo (or PUBKEY is
      that DER); the ECDSA_SIG TLV verifies over those bytes. Prints what it
      found ("version 1.2.3+4", ...) and "OK", or "FAIL: why"; exit 0 or 1.
  mcuboot.py damage KIND IMAGE OUT
      Writes a damaged copy: header (the magic), overrun (the signature
      TLV's length past its area), missing-key, dup-hash (a second SHA256
      TLV, the area's total grown to match), keyhash (one byte of it),
      truncate (the last byte cut).
"""
import os
import struct
import subprocess
import sys
import tempfile

HDR = struct.Struct("<IIHHIIBBHII")
MAGIC, PROT_MAGIC, TLV_MAGIC = 0x96F3B83D, 0x6908, 0x6907
SHA256, KEYHASH, PUBKEY, ECDSA_SIG, SEC_CNT = 0x10, 0x01, 0x02, 0x22, 0x50


class Bad(Exception):
    pass


def openssl(*args, data=None):
    r = subprocess.run(["openssl", *args], input=data, capture_output=True)
    if r.returncode != 0:
        raise Bad("openssl %s: %s" % (args[0], r.stderr.decode().strip()))
    return r.stdout


def tlv_area(img, off, magic):
    """The TLVs of the area at off: [(type, value offset, length)], end."""
    if off + 4 > len(img):
        raise Bad("TLV area 0x%x past the end of the file" % magic)
    m, tot = struct.unpack_from("<HH", img, off)
    if m != magic:
        raise Bad("TLV area magic 0x%04x, not 0x%04x" % (m, magic))
    end, p, tlvs = off + tot, off + 4, []
    if end > len(img):
        raise Bad("TLV area 0x%x runs past the end of the file" % magic)
    while p < end:
        if p + 4 > end:
            raise Bad("a TLV header runs past its area")
        t, n = struct.unpack_from("<HH", img, p)
        if p + 4 + n > end:
            raise Bad("TLV 0x%02x's length %d runs past its area" % (t, n))
        tlvs.append((t, p + 4, n))
        p += 4 + n
    return tlvs, end


def one(tlvs, types, what):
    found = [t for t in tlvs if t[0] in types]
    if len(found) != 1:
        raise Bad("%d %s TLVs, not one" % (len(found), what))
    return found[0]


def trailer(align):
    m = max(8, align)
    return 128 * 3 * align + 4 * m + (16 + m - 1) // m * m


def verify(img, pem, slot, align):
    if len(img) < 32:
        raise Bad("shorter than the header")
    magic, _, hdr_size, prot, img_size, flags, ma, mi, rev, build, _ = \
        HDR.unpack_from(img)
    if magic != MAGIC:
        raise Bad("magic 0x%08x" % magic)
    if hdr_size < 32 or flags & 0x0C:
        raise Bad("header size %d or flags 0x%x" % (hdr_size, flags))
    print("version %d.%d.%d+%d" % (ma, mi, rev, build))
    off = hdr_size + img_size
    if prot:
        ptlvs, end = tlv_area(img, off, PROT_MAGIC)
        if end - off != prot:
            raise Bad("protected area size differs from the header's")
        cnt = one(ptlvs, (SEC_CNT,), "security counter")
        print("security_counter %d" % struct.unpack_from("<I", img, cnt[1]))
    hashed = img[:off + prot]
    tlvs, end = tlv_area(img, off + prot, TLV_MAGIC)
    if end != len(img):
        raise Bad("%d bytes after the TLV area" % (len(img) - end))
    if sorted(t[0] for t in tlvs) != sorted({t[0] for t in tlvs}):
        raise Bad("a TLV type appears twice")
    h = one(tlvs, (SHA256,), "SHA256")
    key = one(tlvs, (KEYHASH, PUBKEY), "key")
    sig = one(tlvs, (ECDSA_SIG,), "ECDSA_SIG")
    if openssl("dgst", "-sha256", "-binary", data=hashed) != \
            img[h[1]:h[1] + h[2]]:
        raise Bad("the SHA256 TLV is not the hash of the signed bytes")
    der = openssl("pkey", "-pubin", "-in", pem, "-outform", "DER")
    want = der if key[0] == PUBKEY else \
        openssl("dgst", "-sha256", "-binary", data=der)
    if img[key[1]:key[1] + key[2]] != want:
        raise Bad("the key TLV does not name the given key")
    print("key %s" % ("PUBKEY" if key[0] == PUBKEY else "KEYHASH"))
    with tempfile.TemporaryDirectory() as d:
        sf = os.path.join(d, "sig.der")
        with open(sf, "wb") as f:
            f.write(img[sig[1]:sig[1] + sig[2]])
        openssl("dgst", "-sha256", "-verify", pem, "-signature", sf,
                data=hashed)
    if slot and len(img) + trailer(align) > slot:
        raise Bad("image and trailer do not fit the slot")
    print("image_size %d" % len(img))


def damage(kind, img):
    img = bytearray(img)
    _, _, hdr_size, prot, img_size = HDR.unpack_from(img)[:5]
    off = hdr_size + img_size + prot
    tlvs, _ = tlv_area(img, off, TLV_MAGIC)
    by = {t[0]: t for t in tlvs}
    key = by.get(KEYHASH) or by[PUBKEY]
    if kind == "header":
        img[0] ^= 0xFF
    elif kind == "overrun":
        struct.pack_into("<H", img, by[ECDSA_SIG][1] - 2, 0x400)
    elif kind == "missing-key":
        del img[key[1] - 4:key[1] + key[2]]
        struct.pack_into("<H", img, off + 2,
                         struct.unpack_from("<H", img, off + 2)[0] - 4 - key[2])
    elif kind == "dup-hash":
        h = by[SHA256]
        copy = bytes(img[h[1] - 4:h[1] + h[2]])
        img[h[1] + h[2]:h[1] + h[2]] = copy
        struct.pack_into("<H", img, off + 2,
                         struct.unpack_from("<H", img, off + 2)[0] + len(copy))
    elif kind == "keyhash":
        img[key[1] + 5] ^= 0x01
    elif kind == "truncate":
        del img[-1:]
    else:
        raise Bad("unknown damage " + kind)
    return bytes(img)


def main(argv):
    if len(argv) == 4 and argv[0] == "damage":
        with open(argv[2], "rb") as f:
            out = damage(argv[1], f.read())
        with open(argv[3], "wb") as f:
            f.write(out)
        return 0
    opts, args = {}, list(argv[1:])
    while len(args) > 1 and args[0].startswith("--"):
        opts[args[0]] = args[1]
        del args[:2]
    if not argv or argv[0] != "verify" or len(args) != 1 or \
            "--pubkey" not in opts:
        print(__doc__, file=sys.stderr)
        return 2
    with open(args[0], "rb") as f:
        img = f.read()
    try:
        verify(img, opts["--pubkey"], int(opts.get("--slot-size", "0"), 0),
               int(opts.get("--align", "1"), 0))
    except Bad as e:
        print("FAIL: %s" % e)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
