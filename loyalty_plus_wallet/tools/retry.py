import logging
import threading
import time

_logger = logging.getLogger(__name__)

# Retry delays grow 1 s, 4 s, 16 s (base * 4**attempt); tests pass a tiny base.
RETRY_FACTOR = 4
RETRY_ATTEMPTS = 3


class TransientError(Exception):
    """A failure worth retrying: timeouts, connection resets, HTTP 429 and 5xx."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def is_transient_status(status):
    return status == 429 or status >= 500


def call_with_backoff(func, base_delay=1.0, attempts=RETRY_ATTEMPTS, sleep=time.sleep, what="request"):
    """Call ``func()``; on :class:`TransientError` wait ``base_delay * 4**n`` and retry, ``attempts`` times.

    The last transient error is raised when every retry failed; any other exception passes through at once.
    """
    for attempt in range(attempts + 1):
        try:
            return func()
        except TransientError as error:
            if attempt == attempts:
                raise
            delay = base_delay * RETRY_FACTOR**attempt
            _logger.info("%s failed (%s), retry %s/%s in %.3f s", what, error, attempt + 1, attempts, delay)
            sleep(delay)
    raise AssertionError("unreachable")


class RateLimiter:
    """Spaces calls to at most ``rate`` per second across threads (Google allows about 20 requests/s)."""

    def __init__(self, rate):
        self.interval = 1.0 / rate
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self):
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)
