"""A TCP proxy for the safety tests: forwards 127.0.0.1:<random port> to a server, and cuts.

``cut()`` aborts every open connection at once, both sides (a reset, as when a network path
dies or a load balancer drops its flows): the client sees its connection die, the server sees
its session's socket die and ends the session. New connections are still accepted afterwards
unless ``accept_after_cut=False``, so a client that reconnects gets a fresh, working path.

Everything happens on one thread of the proxy's own, around a selector, so the test's event
loop (or a blocked test) never holds the traffic up, and no socket is closed under another
thread's feet.

>>> # with TcpProxy("127.0.0.1", 5432) as proxy:
>>> #     url = url.set(host="127.0.0.1", port=proxy.port)
>>> #     ...
>>> #     proxy.cut()
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
from collections.abc import Callable
from types import TracebackType

_CHUNK = 65536


class TcpProxy:
    """Forwards connections on ``127.0.0.1:self.port`` to ``target_host:target_port``."""

    def __init__(self, target_host: str, target_port: int, *, accept_after_cut: bool = True) -> None:
        self.target = (target_host, target_port)
        self.accept_after_cut = accept_after_cut
        self.accepted = 0  # connections accepted so far, cut or not
        self.cuts = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._peer: dict[socket.socket, socket.socket] = {}
        self._requests: list[tuple[Callable[[], object], threading.Event, list[object]]] = []
        self._lock = threading.Lock()
        self._closing = False
        self._refusing = False
        self._thread = threading.Thread(target=self._loop, name=f"tcp-proxy-{self.port}", daemon=True)
        self._thread.start()

    # -- the test's side ----------------------------------------------------------------------

    @property
    def open_connections(self) -> int:
        return self._call(lambda: len(self._peer) // 2)  # type: ignore[return-value]

    def cut(self) -> int:
        """Abort every open connection (a TCP reset both ways); return how many were cut."""
        count = self._call(self._cut_all)
        assert isinstance(count, int)
        return count

    def close(self) -> None:
        """Cut everything and stop listening; safe to call more than once."""
        if self._closing:
            return
        try:
            self._call(self._cut_all)
        except RuntimeError:
            pass
        self._closing = True
        self._wake()
        self._thread.join(timeout=10)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _call(self, fn: Callable[[], object], timeout: float = 10.0) -> object:
        """Run ``fn`` on the proxy's thread and return its result."""
        if self._closing or not self._thread.is_alive():
            raise RuntimeError("the proxy is closed")
        done = threading.Event()
        result: list[object] = []
        with self._lock:
            self._requests.append((fn, done, result))
        self._wake()
        if not done.wait(timeout):
            raise RuntimeError("the proxy's thread did not answer")
        return result[0]

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    # -- the proxy's thread -------------------------------------------------------------------

    def _loop(self) -> None:
        sel = self._selector
        sel.register(self._listener, selectors.EVENT_READ, "accept")
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        try:
            while not self._closing:
                for key, _ in sel.select(timeout=1.0):
                    if key.data == "accept":
                        self._accept()
                    elif key.data == "wake":
                        self._drain_wake()
                    else:
                        sock = key.fileobj
                        assert isinstance(sock, socket.socket)
                        self._forward(sock)
        finally:
            for sock in list(self._peer):
                self._abort(sock)
            sel.close()
            self._listener.close()
            self._wake_r.close()
            self._wake_w.close()

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass
        with self._lock:
            requests, self._requests = self._requests, []
        for fn, done, result in requests:
            result.append(fn())
            done.set()

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        if self._refusing:
            self._abort(client, registered=False)
            return
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            self._abort(client, registered=False)
            return
        self.accepted += 1
        for sock in (client, server):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Reads only come when the selector says there is data; a write may wait for the
            # peer's window, boundedly.
            sock.settimeout(10)
        self._peer[client] = server
        self._peer[server] = client
        self._selector.register(client, selectors.EVENT_READ, "data")
        self._selector.register(server, selectors.EVENT_READ, "data")

    def _forward(self, sock: socket.socket) -> None:
        peer = self._peer.get(sock)
        if peer is None:
            return
        try:
            data = sock.recv(_CHUNK)
        except OSError:
            data = b""
        if data:
            try:
                peer.sendall(data)
                return
            except OSError:
                pass
        # One side closed (or failed): close the other one too, in order (FIN, not a reset).
        self._close_pair(sock, abort=False)

    def _cut_all(self) -> int:
        pairs = {frozenset((a, b)) for a, b in self._peer.items()}
        for pair in pairs:
            self._close_pair(next(iter(pair)), abort=True)
        self.cuts += 1
        if not self.accept_after_cut:
            self._refusing = True
        return len(pairs)

    def _close_pair(self, sock: socket.socket, abort: bool) -> None:
        peer = self._peer.pop(sock, None)
        if peer is not None:
            self._peer.pop(peer, None)
        for s in (sock, peer):
            if s is None:
                continue
            if abort:
                self._abort(s)
            else:
                self._unregister(s)
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def _unregister(self, sock: socket.socket) -> None:
        try:
            self._selector.unregister(sock)
        except (KeyError, ValueError):
            pass

    def _abort(self, sock: socket.socket, registered: bool = True) -> None:
        """Close with SO_LINGER 0: the kernel sends a reset and drops what is unsent."""
        if registered:
            self._unregister(sock)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        sock.close()
