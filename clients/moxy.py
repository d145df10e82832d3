"""Moxy URLs from Python 3.8+, standard library only (docs/url-format.md, docs/clients.md).

    from moxy import moxy_url
    moxy_url("https://img.example.com", "https://example.org/cat.png", os.environ["MOXY_KEY"])
    # -> "https://img.example.com/<signature>/aHR0cHM6Ly9leGFtcGxlLm9yZy9jYXQucG5n"
    moxy_url(base, url, key, key_id="2", expires=datetime.now() + timedelta(hours=1), ext="png")

Leave key_id out when signing with the server's default key (no k option is written).
As a program: python3 moxy.py [--base URL] [--key-id ID] [--expires UNIX] [--ext EXT] KEY URL
"""
import base64
import hashlib
import hmac
import re
import sys
from datetime import datetime


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def moxy_url(base, url, key, *, key_id=None, expires=None, ext=None):
    """The native Moxy URL for url: base + /<HMAC-SHA256>/[k<id>,e<unix>/]<base64url(url)>[.ext].

    Raises ValueError for input the server would refuse: better here than as a 400 or 403 later.
    """
    if not key:
        raise ValueError("key must not be empty")
    if not re.match(r"(?i)https?://.", url):
        raise ValueError("url must be an absolute http:// or https:// URL")
    if re.search(r"[\x00-\x20\x7f]", url):
        raise ValueError("url contains spaces or control characters")
    options = []
    if key_id is not None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", str(key_id)):
            raise ValueError("key_id must be 1-32 letters, digits, _ or -")
        options.append("k" + str(key_id))
    if expires is not None:
        seconds = int(expires.timestamp()) if isinstance(expires, datetime) else int(expires)
        if not 0 <= seconds <= 999_999_999_999:
            raise ValueError("expires must be Unix seconds (0 to 12 digits)")
        options.append("e" + str(seconds))
    rest = ("/" + ",".join(options) if options else "") + "/" + _b64url(url.encode("utf-8"))
    if ext is not None:
        if not re.fullmatch(r"[A-Za-z0-9]{1,8}", ext):
            raise ValueError("ext must be 1-8 letters or digits")
        rest += "." + ext
    key_bytes = key if isinstance(key, bytes) else key.encode("utf-8")
    signature = hmac.new(key_bytes, rest.encode("ascii"), hashlib.sha256).digest()
    return (base or "").rstrip("/") + "/" + _b64url(signature) + rest


if __name__ == "__main__":
    named, args, argv = {}, [], sys.argv[1:]
    while argv:
        arg = argv.pop(0)
        if arg.startswith("--") and argv:
            named[arg[2:].replace("-", "_")] = argv.pop(0)
        else:
            args.append(arg)
    if len(args) != 2:
        sys.exit("usage: python3 moxy.py [--base URL] [--key-id ID] [--expires UNIX] [--ext EXT] KEY URL")
    try:
        print(moxy_url(named.get("base"), args[1], args[0], key_id=named.get("key_id"),
                       expires=int(named["expires"]) if "expires" in named else None, ext=named.get("ext")))
    except ValueError as error:
        sys.exit("error: " + str(error))
