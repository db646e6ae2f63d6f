import logging
import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_logger = logging.getLogger(__name__)

# Retry delays grow 1 s, 4 s, 16 s (base * 4**attempt); tests pass a tiny base.
RETRY_FACTOR = 4
RETRY_ATTEMPTS = 3
# a server asking to wait longer than this is not waited for here: the pass remembers the date
MAX_RETRY_AFTER = 60


class TransientError(Exception):
    """A failure worth retrying: timeouts, connection resets, HTTP 429 and 5xx. ``retry_after``:
    the seconds the server asked us to wait (its Retry-After header), if it did."""

    def __init__(self, message, status=None, retry_after=None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def is_transient_status(status):
    return status == 429 or status >= 500


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP date), None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def call_with_backoff(func, base_delay=1.0, attempts=RETRY_ATTEMPTS, sleep=time.sleep, what="request"):
    """Call ``func()``; on :class:`TransientError` wait ``base_delay * 4**n`` (or the longer delay the
    server asked for) and retry, ``attempts`` times.

    The last transient error is raised when every retry failed or the server asks to wait more than
    :data:`MAX_RETRY_AFTER`; any other exception passes through at once.
    """
    for attempt in range(attempts + 1):
        try:
            return func()
        except TransientError as error:
            if attempt == attempts or (error.retry_after or 0) > MAX_RETRY_AFTER:
                raise
            # retrying sooner than the server asked only earns another 429
            delay = max(base_delay * RETRY_FACTOR**attempt, error.retry_after or 0)
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
