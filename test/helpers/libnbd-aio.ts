/**
 * Python text that drives many libnbd handles from one process with one poll(2) over all
 * their sockets, for interop tests that put load on a server (many connections, many
 * requests in flight). Prepend it to a `libnbd(...)` body. Never judges results: it only
 * moves commands along and hands back what completed or failed.
 */

/**
 * Defines, for the script that follows:
 * - `pump_once(handles)`: one poll(2) over every handle with a command in flight, then
 *   `aio_notify_read`/`aio_notify_write` on the ready ones (what `h.poll` does for one
 *   handle). Returns False when nothing is in flight.
 * - `pump(handles)`: `pump_once` until no handle has a command in flight.
 * - `retire(h, cookies)`: retires completed commands, returns the errno names of failures.
 * - `payload(*key, length)`: seeded random bytes, distinct for each key (e.g. round,
 *   connection, offset) and the same on every run.
 * - `first_difference(a, b)`: index of the first differing byte, or -1.
 */
export const AIO_PRELUDE = `
import hashlib, random, select

def pump_once(handles):
    poller = select.poll()
    owners = {}
    for h in handles:
        if h.aio_in_flight() == 0:
            continue
        direction = h.aio_get_direction()
        events = 0
        if direction & nbd.AIO_DIRECTION_READ:
            events |= select.POLLIN
        if direction & nbd.AIO_DIRECTION_WRITE:
            events |= select.POLLOUT
        if events == 0:
            raise RuntimeError("handle has commands in flight but waits for nothing")
        fd = h.aio_get_fd()
        poller.register(fd, events)
        owners[fd] = h
    if not owners:
        return False
    for fd, revents in poller.poll(30000):
        h = owners[fd]
        if revents & (select.POLLIN | select.POLLHUP | select.POLLERR):
            h.aio_notify_read()
        elif revents & select.POLLOUT:
            h.aio_notify_write()
    return True

def pump(handles):
    while pump_once(handles):
        pass

def retire(h, cookies):
    failures = []
    for cookie in cookies:
        try:
            if not h.aio_command_completed(cookie):
                failures.append("not completed")
        except nbd.Error as e:
            failures.append(e.errno or e.string)
    return failures

def payload(*key, length):
    return random.Random(":".join(str(part) for part in key)).randbytes(length)

def first_difference(a, b):
    if a == b:
        return -1
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            return i
    return min(len(a), len(b))
`;
