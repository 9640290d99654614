"""What happened, recorded once: the audit log, webhook deliveries and usage counts all come from
here. See `record.py` (writing an event with its change) and `payloads.py` (what hooks receive)."""
from .record import REQUEST, Recorder, RequestInfo, hook_event, recording

__all__ = ["REQUEST", "Recorder", "RequestInfo", "hook_event", "recording"]
