"""Where events may be sent: to public addresses, and to the networks the deployment allows.

An address typed by an administrator is still an address the server connects to from inside
the city's network: ``http://127.0.0.1:6379/``, ``http://169.254.169.254/`` or a colleague's
intranet host would each get a signed POST.  So events go only to public (globally routable)
addresses, unless the host's address lies in one of ``WEBHOOK_ALLOWED_NETWORKS`` (e.g.
``10.20.0.0/16`` for the hotline's platform on the government network).  The rule is applied
when the connection is made, to every address the host name resolves to, and the connection
goes to an address so checked (a name that resolved to a public address when it was checked
cannot point somewhere else when it is used); registration refuses an address written as a
number outside them at once.  Events go directly, never through a proxy of the environment.
"""

import ipaddress
import socket
import urllib.request

from flask import current_app


class Refused(OSError):
    """The host is not an address events may be sent to."""


def allowed_networks(values=None) -> tuple:
    """The networks of ``WEBHOOK_ALLOWED_NETWORKS`` (or ``values``), parsed; ValueError on an
    entry that is not a network (``10.20.0.0/16``) or an address."""
    if values is None:
        values = current_app.config.get("WEBHOOK_ALLOWED_NETWORKS", ())
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def allowed(address: str, networks) -> bool:
    """Is ``address`` (an IP address as text) one events may go to?"""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone does not count
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global or any(ip in network for network in networks)


def literal(host: str) -> str | None:
    """The host as an IP address if it is written as one (``[::1]`` included), else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def _connect(address, timeout, networks):
    """``socket.create_connection`` for the addresses of the host that are allowed; refused
    if any address of the host is not."""
    host, port = address
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    barred = sorted({info[4][0] for info in found if not allowed(info[4][0], networks)})
    if barred:
        raise Refused(f"{host} is {', '.join(barred)}: not a public address, and not in "
                      "WEBHOOK_ALLOWED_NETWORKS")
    error = None
    for family, kind, proto, _name, where in found:
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            sock.connect(where)
            return sock
        except OSError as failure:
            sock.close()
            error = failure
    raise error or OSError(f"{host} has no address")


def _guarded(connection_class, networks):
    class Guarded(connection_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._create_connection = (
                lambda address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None:
                _connect(address, timeout, networks))
    return Guarded


class _Guard:
    """What the HTTP and HTTPS handlers add: their connections made by ``_connect``."""

    def __init__(self, networks):
        super().__init__()
        self.networks = networks

    def do_open(self, http_class, req, **kwargs):
        return super().do_open(_guarded(http_class, self.networks), req, **kwargs)


class _HTTPHandler(_Guard, urllib.request.HTTPHandler):
    pass


class _HTTPSHandler(_Guard, urllib.request.HTTPSHandler):
    pass


def opener(*handlers, networks=None) -> urllib.request.OpenerDirector:
    """An opener whose connections go only where ``allowed`` says (``networks``: default
    the configuration's), with no proxy, and ``handlers`` besides."""
    networks = allowed_networks() if networks is None else networks
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _HTTPHandler(networks),
                                       _HTTPSHandler(networks), *handlers)
