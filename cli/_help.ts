/**
 * The help texts of `nk`: one overview and one page per verb, each with
 * examples.
 *
 * @module
 */

const ADDRESSES = `Addresses (one syntax for every verb):
  tcp:HOST:PORT             tcp-listen:[HOST:]PORT    (HOST defaults to 0.0.0.0)
  unix:PATH                 unix-listen:PATH
  abstract:NAME             abstract-listen:NAME      (Linux abstract names)
  udp:HOST:PORT             udp-listen:[HOST:]PORT    (one peer)
  tls:HOST:PORT             tls-listen:[HOST:]PORT    (cert=PEM,key=PEM)
  exec:'COMMAND ARGS'       a child whose stdin/stdout are the other side
  -                         stdin/stdout
  Options follow commas, named like the library's:
    tcp:        timeout=MS, noDelay, keepAlive
    tcp-listen: backlog=N, noDelay, reusePort
    unix:       timeout=MS
    unix-listen: mode=0660, owner=UID, group=GID, unlink, unlinkOnClose, mkdir, backlog=N
    udp:        timeout=MS, reuseAddress, loopback
    udp-listen: reuseAddress, loopback
    tls:        timeout=MS, serverName=NAME, caFile=PEM, cert=PEM, key=PEM, alpn=h2:http/1.1
    tls-listen: cert=PEM, key=PEM, alpn=h2:http/1.1, backlog=N, noDelay
  A boolean option alone means true (mkdir); =false turns it off (unlink=false).`;

const EXIT_CODES = `Exit codes:
  0    ok
  1    other failure (reset, address in use, ...)
  2    bad usage: unknown verb, flag, address type or option, malformed value
  3    connection refused, not found (no such path, name or program)
  4    timeout (connect or idle)
  5    permission denied (the message names the missing --allow-* flag)
  6    not supported in this build or on this platform
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM)`;

const FLAGS = `Flags:
  -v, --verbose     log each connection to stderr: peer, bytes each way, duration
  --timeout MS      connect timeout, and idle timeout of each relay (2000, 500ms, 2s)
  --progress        a progress line on stderr each second: bytes and rate
  -h, --help        help (nk VERB --help for one verb)
  --version         netkit's version`;

/** The overview (`nk --help`). */
export const OVERVIEW =
  `nk: netkit's socket tool. Connect, listen, relay and exec over unix, tcp, tls and udp.

Usage:
  nk connect ADDR           stdin/stdout <-> ADDR (like nc)
  nk listen ADDR            accept a peer on ADDR; relay it to stdin/stdout or --exec CMD
  nk relay A B              relay between two addresses (like socat)
  nk probe unix:PATH        is a server there? live, stale, not-a-socket or missing
  nk resolve NAME           the addresses of a host name
  nk ping HOST              ICMP echo through a raw or ping socket (--allow-ffi)
  nk help VERB              help on one verb, with examples

${ADDRESSES}

${FLAGS}
  --keep            (listen, relay) serve one peer after another
  --fork            (listen, relay) serve peers concurrently
  --exec CMD        (listen) run CMD for each peer

${EXIT_CODES}

Examples:
  nk listen unix-listen:/tmp/echo.sock,mode=0600 --fork --exec cat &
  echo hello | nk connect unix:/tmp/echo.sock
  nk relay --fork tcp-listen:127.0.0.1:8080 unix:/var/run/docker.sock
  nk probe unix:/tmp/echo.sock`;

/** One page per verb. */
export const VERBS: Record<string, string> = {
  connect: `nk connect ADDR [-v] [--timeout MS] [--progress]

Relays stdin and stdout to ADDR, like nc. The end of stdin sends end of stream
(a FIN) and the reply is still read to its end; the command ends when both
directions ended (on a terminal, as soon as the peer's output ended). ADDR is
any address but a listening one (use nk listen for those).

${ADDRESSES}

${FLAGS}

${EXIT_CODES}

Examples:
  echo hello | nk connect tcp:127.0.0.1:7
  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nk connect unix:/var/run/docker.sock
  nk connect abstract:my-service
  nk connect 'exec:sh -c "date; cat"'
  nk connect tcp:example.org:80,timeout=2s -v`,

  listen: `nk listen ADDR [--keep | --fork] [--exec CMD] [-v] [--timeout MS] [--progress]

Listens on ADDR and relays the first peer to stdin/stdout, or to a child
started with --exec CMD (its stdin and stdout are the peer; its stderr is
ours). With --allow-ffi a tcp or unix peer's socket itself is the child's
fds 0 and 1 (getpeername and setsockopt work; without --progress and
--timeout, which need nk to see the bytes), else nk pumps pipes. --keep serves peers one after another, --fork concurrently (needs
--exec). tcp:, unix:, udp: and abstract: mean their -listen forms here.
Ctrl-C closes the sockets and removes the unix path the command created;
a stale path left by a crashed server is replaced, a live one is refused.

${ADDRESSES}

${FLAGS}
  --keep            serve one peer after another, until Ctrl-C
  --fork            serve peers concurrently, until Ctrl-C (with --exec)
  --exec CMD        run CMD for each peer (quoted like a shell word list)

${EXIT_CODES}

Examples:
  nk listen tcp-listen:127.0.0.1:9000 > received.bin
  nk listen unix-listen:/tmp/echo.sock,mode=0600,mkdir --fork --exec cat
  nk listen tcp-listen:8080 --keep --exec 'sh -c "printf \\"HTTP/1.0 200 OK\\r\\n\\r\\nhi\\n\\""'
  nk listen udp-listen:127.0.0.1:5353 -v`,

  relay: `nk relay A B [--keep | --fork] [-v] [--timeout MS] [--progress]

Relays between two addresses, like socat: both directions, end of stream
passed through as a half-close, both ends closed at the end. When A (or B)
is a listening address, each accepted peer is relayed to a fresh
connection to the other address: one peer by default, --keep one after
another, --fork concurrently.

${ADDRESSES}

${FLAGS}
  --keep            serve one peer after another, until Ctrl-C
  --fork            serve peers concurrently, until Ctrl-C

${EXIT_CODES}

Examples:
  nk relay --fork tcp-listen:127.0.0.1:2375 unix:/var/run/docker.sock
  nk relay --fork unix-listen:/tmp/web.sock,mode=0660 tcp:127.0.0.1:8000
  nk relay - 'exec:tr a-z A-Z'
  nk relay --progress tcp-listen:9000 tcp:backup.local:9000`,

  probe: `nk probe unix:PATH | abstract:NAME [-v] [--timeout MS]

Tells what is at a unix socket path, without removing anything: prints one of
  live           a server accepts connections               exit 0
  stale          a socket file nobody listens on (a crashed
                 server's; nk listen replaces it)            exit 3
  not-a-socket   a file, directory or dangling symlink      exit 1
  missing        nothing there                              exit 3
then the path and a note. Other failures exit as listed below.

${EXIT_CODES}

Examples:
  nk probe unix:/var/run/docker.sock
  nk probe unix:/tmp/app.sock || rm -f /tmp/app.sock`,

  resolve: `nk resolve NAME [--family inet|inet6] [-v]

Prints the addresses of NAME through the system resolver (so the hosts
file and localhost work), one per line, in the resolver's order, then
"canonical name: NAME" (getaddrinfo's, with --allow-ffi). Without
--allow-ffi only the addresses are printed, and a note on stderr says so.
-v adds each address's family.

${EXIT_CODES}

Examples:
  nk resolve localhost
  nk resolve example.org --family inet6`,

  ping: `nk ping HOST [--count N] [--interval MS] [--timeout MS] [--family inet|inet6]

ICMP echo to HOST, printed as ping prints it: a line per reply with its
round-trip time, then the statistics. A raw socket as root (or with
CAP_NET_RAW), else an unprivileged ping socket where
net.ipv4.ping_group_range allows it. Needs --allow-ffi (exit code 6
without it). --count defaults to 4, --interval to 1000 ms, --timeout (the
wait for each reply) to 1000 ms. Exit code 0 when a reply came back, 1
when none did.

Examples:
  nk ping 127.0.0.1 --count 3
  nk ping ::1 --interval 200

${EXIT_CODES}`,

  help: `nk help [VERB]

The overview, or the page of one verb (connect, listen, relay, probe,
resolve, ping).`,
};
