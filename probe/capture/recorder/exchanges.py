"""The HTTP half of the capture addon: one finished exchange made into its record (request, response, a large
body's file or a spooled body, timings, how it ended) and appended to traffic.jsonl."""

import time

from mitmproxy import http

from probe.capture.recorder import line as capture_line
from probe.capture.recorder import record as stored
from probe.capture.recorder.body_file import BodyFile
from probe.capture.recorder.files import body_file_fields, spooled_body_fields
from probe.capture.recorder.record import SCHEMA_VERSION, TERMINAL_EVENT
from probe.capture.recorder.spool import Spool
from probe.capture.recorder.tee import Tee
from probe.common import decoding


class HttpRecording:
    """What the capture addon does with a finished HTTP exchange; the addon (Capture) provides the policy, the
    tees, append and the fields of a message."""

    def record_http(self, flow: http.HTTPFlow, tee: Tee | None, error: str | None, agent_hung_up: bool) -> None:
        """Write the exchange's line; a large body's file is let go whatever happens (unnamed, it then vanishes)."""
        body_file = tee.spool if tee is not None and isinstance(tee.spool, BodyFile) else None
        try:
            self.record_exchange(flow, tee, error, agent_hung_up)
        finally:
            if body_file is not None:
                body_file.close()

    def record_exchange(self, flow: http.HTTPFlow, tee: Tee | None, error: str | None, agent_hung_up: bool) -> None:
        """One that ended in an error is complete only if the agent hung up after its stream's terminal event; an
        error on the upstream's side means the agent got the answer cut off."""
        request, response = flow.request, flow.response
        policy = self.policy
        start = request.timestamp_start
        request_body = stored.store_body(
            request.raw_content,
            request.headers.get("content-encoding", ""),
            request.headers.get("content-type", ""),
            policy,
        )
        spool = tee.spool if tee is not None else None
        if spool is not None:
            tee.wait_for_spool()
            if isinstance(spool, BodyFile):
                spool.finish()  # its last segment written, and the file named: the line can refer to it
        content_encoding = response.headers.get("content-encoding", "").strip().lower() if response else ""
        if isinstance(spool, Spool) and content_encoding not in ("", "identity"):
            # A large compressed body is decoded whole, in memory: the decoders work on whole bodies.
            tee.chunks, tee.spool = [spool.read_all()], None
            spool.close()
            spool = None
        # An upstream that fails after its terminal event (a chunked answer cut off, trailers mitmproxy 11 cannot
        # read) still reaches the agent cut off, so only the agent's own hang-up is forgiven. mitmproxy may close
        # the agent's connection itself (on an answer shorter than its Content-Length), which then looks like a
        # hang-up: so a declared length that was not reached is never forgiven.
        forgiven = (
            agent_hung_up
            and response is not None
            and not cut_short(response, tee)
            and self.ends_with_terminal_event(flow, tee)
        )
        complete = error is None or forgiven
        record = {
            "schema": SCHEMA_VERSION,
            "kind": "http",
            "id": flow.id,
            "proxy": self.proxy_name(flow),
            "complete": complete,
            "error": stored.text(error, policy) if error else error,
            "timing": {"start": start, "request_end": request.timestamp_end},
            "request": self.message_fields(request)
            | {
                "method": stored.text(request.method, policy),
                "url": stored.url(request.url, policy),
                "path": stored.url(request.path, policy),
                "http_version": request.http_version,
                **request_body.fields,
            },
            "response": None,
        }
        if response is not None:
            record["response"] = self.message_fields(response) | {
                "status": response.status_code,
                "reason": stored.text(response.reason, policy),
                "http_version": response.http_version,
            }
            end = (tee.ended_at or tee.last_arrival) if tee else None
            record["timing"].update(
                response_headers=response.timestamp_start,
                first_byte=(tee.first_arrival if tee else None) or response.timestamp_start,
                end=end or response.timestamp_end or time.time(),
            )
            if tee is not None:
                record["response"]["chunks"] = [
                    [round((arrival - start) * 1000, 3), size] for arrival, size in tee.timings
                ]
            if isinstance(spool, BodyFile):
                record["response"] |= body_file_fields(spool)
                self.append([capture_line.line(record)], "traffic.jsonl")
                return
            if spool is not None:
                try:
                    spool.finish()
                    # The body goes last in its response object, streamed from the spool into its place in the line.
                    record["response"] |= spooled_body_fields(spool)
                    self.append(capture_line.spooled_line(record, spool, policy.redact), "traffic.jsonl")
                finally:
                    spool.close()
                return
            raw = tee.body() if tee is not None else response.raw_content
            record["response"] |= stored.store_body(
                raw, content_encoding, response.headers.get("content-type", ""), policy
            ).fields
        else:
            record["timing"]["end"] = time.time()
        self.append([capture_line.line(record)], "traffic.jsonl")
        if tee is not None:
            tee.chunks = []  # the body may be hundreds of megabytes: let it go now

    def ends_with_terminal_event(self, flow: http.HTTPFlow, tee: Tee | None) -> bool:
        if tee is not None and tee.spool is not None:
            return bool(TERMINAL_EVENT.search(tee.spool.tail()))
        body = tee.body() if tee is not None else flow.response.raw_content or b""
        content_encoding = flow.response.headers.get("content-encoding", "")
        if content_encoding:
            body = decoding.decode_body(body, content_encoding, self.policy.decode_cap).data
        return bool(TERMINAL_EVENT.search(body))

    # WebSocket ------------------------------------------------------------------------------


def cut_short(response: http.Response, tee: Tee | None) -> bool:
    """Whether fewer bytes arrived than the answer's Content-Length declared."""
    declared = response.headers.get("content-length", "").strip()
    received = tee.size if tee is not None else len(response.raw_content or b"")
    return declared.isdigit() and received < int(declared)
