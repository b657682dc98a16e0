"""librdkafka's own log lines through Python logging, rate-limited.

Without a logger, librdkafka writes raw lines (`%3|...|FAIL|...`) to stderr: during a broker outage one per
connection attempt, past the service's log format and handlers. client_config gives every client a ClientLog:
the lines go to the `notifications.kafka.librdkafka` logger (JSON when LOG_FORMAT says so), and a line repeated
within the interval (the same client, facility and text, numbers aside) is counted instead of written; its next
line says how many were left out."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

DEFAULT_INTERVAL_SECONDS = 30.0
_MAX_TRACKED = 1000  # distinct lines remembered per client
_NUMBERS = re.compile(r"\d+")

client_logger = logging.getLogger("notifications.kafka.librdkafka")


class ClientLog:
    """What confluent-kafka's `logger` setting takes: an object with logging.Logger's `log` method. The client
    calls it as log(level, "%s [%s] %s", facility, client name, text) when it is polled."""

    def __init__(self, interval: float = DEFAULT_INTERVAL_SECONDS, logger: logging.Logger = client_logger,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval, self.logger, self.clock = interval, logger, clock
        self._lines: OrderedDict[tuple[str, str, str], list[float]] = OrderedDict()  # key -> [last written, left out]
        self._lock = threading.Lock()

    def log(self, level: int, msg: str, *args: object) -> None:
        if len(args) == 3:
            facility, client, text = (str(arg) for arg in args)
        else:  # not the client's usual call: keep it whole
            facility, client, text = "", "", msg % args if args else msg
        if not self.logger.isEnabledFor(level):
            return
        key = (client, facility, _NUMBERS.sub("#", text))
        now = self.clock()
        with self._lock:
            seen = self._lines.get(key)
            if seen is not None and now - seen[0] < self.interval:
                seen[1] += 1
                return
            left_out = int(seen[1]) if seen is not None else 0
            self._lines[key] = [now, 0]
            self._lines.move_to_end(key)
            while len(self._lines) > _MAX_TRACKED:
                self._lines.popitem(last=False)
        if left_out:
            self.logger.log(level, "librdkafka %s [%s] %s (%d more like it in the last %.0fs)", facility, client,
                            text, left_out, self.interval)
        else:
            self.logger.log(level, "librdkafka %s [%s] %s", facility, client, text)

