"""Sign a URL into a Moxy path (native format, see docs/url-format.md). Python 3, standard library only.

    python3 moxy_sign.py SECRET URL [--key-id ID] [--expires UNIX_SECONDS] [--ext EXT]

Omit --key-id when signing with the server's default key (no k option is written).
"""
import base64
import hashlib
import hmac
import sys


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def moxy_path(secret: str, url: str, key_id: str | None = None, expires: int | None = None, ext: str | None = None) -> str:
    options = []
    if key_id is not None:
        options.append("k" + key_id)
    if expires is not None:
        options.append("e" + str(int(expires)))
    rest = ("/" + ",".join(options) if options else "") + "/" + b64url(url.encode("utf-8"))
    if ext:
        rest += "." + ext
    signature = hmac.new(secret.encode("utf-8"), rest.encode("ascii"), hashlib.sha256).digest()
    return "/" + b64url(signature) + rest


if __name__ == "__main__":
    args = sys.argv[1:]
    named = {}
    while len(args) > 2 and args[-2].startswith("--"):
        named[args[-2][2:]] = args[-1]
        args = args[:-2]
    secret, url = args
    print(moxy_path(secret, url, named.get("key-id"), int(named["expires"]) if "expires" in named else None, named.get("ext")))
