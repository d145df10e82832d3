"""A Jinja2 filter that turns image URLs into Moxy URLs: Flask, Django's Jinja2 backend, any Environment.

    from jinja2 import Environment
    from moxy_jinja import install_moxy_filter
    env = Environment(autoescape=True)
    install_moxy_filter(env, base="https://img.example.com", key=os.environ["MOXY_KEY"])
    # Flask: install_moxy_filter(app.jinja_env, ...)

    <img src="{{ post.image | moxy }}">   <img src="{{ url | moxy(ext="png") }}">

moxy.py (next to this file) does the signing. Relative URLs (a site's own images) and empty values
pass through unchanged; anything else the server would refuse raises ValueError.
"""
import re

from moxy import moxy_url


def install_moxy_filter(env, base, key, key_id=None, name="moxy"):
    """Registers the `moxy` filter (or `name`) on a Jinja2 Environment."""

    def moxy(url, ext=None, expires=None):
        if not url or not re.match(r"(?i)https?://", str(url)):
            return url
        return moxy_url(base, str(url), key, key_id=key_id, expires=expires, ext=ext)

    env.filters[name] = moxy
    return env
