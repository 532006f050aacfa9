# Offline PIN guessing rate per core (CPU time, so a busy machine does not skew it).
import hashlib, os, time
salt = os.urandom(16)
def rate(f, secs):
    t = time.process_time(); n = 0
    while time.process_time() - t < secs:
        f(b"%06d" % n); n += 1
    return n / (time.process_time() - t)
print("host scrypt N=2^15 r=8 p=1: %.1f guesses/s/core" % rate(
    lambda p: hashlib.scrypt(p, salt=salt, n=1 << 15, r=8, p=1, maxmem=64 << 20, dklen=32), 5))
for lg in (14, 15):
    print("firmware PBKDF2-HMAC-SHA-256 2^%d: %.1f guesses/s/core" % (lg, rate(
        lambda p: hashlib.pbkdf2_hmac("sha256", p, salt, 1 << lg, 32), 3)))
