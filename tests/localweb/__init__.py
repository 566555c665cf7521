"""The local web: our own sample sites served under the real hostnames on 127.0.0.1, with faults on demand."""

from .faults import FAULT_KINDS, Fault
from .generated import GeneratedSite, Rendered
from .server import REAL_HOSTS, SITES_DIR, LocalWeb, RequestLog, RequestRecord

__all__ = [
    "FAULT_KINDS",
    "REAL_HOSTS",
    "SITES_DIR",
    "Fault",
    "GeneratedSite",
    "LocalWeb",
    "Rendered",
    "RequestLog",
    "RequestRecord",
]
