"""mitmproxy addon of a fork (`invoke replay --until N`): every request goes to the replay's stand-in until the
stand-in has served the fork point and made the flag file; from then on each request goes to the fork's upstream,
with the fork's model in its body's `model` and in a Gemini path's `/models/<model>:`. It rewrites before the
capture records, so the run's traffic.jsonl holds what was sent. Loaded with `mitmdump -s` beside the capture
addon; it imports only the standard library and mitmproxy."""

import json
import os
import re
import urllib.parse

from mitmproxy import ctx, http
from mitmproxy.proxy.mode_specs import ReverseMode

MODEL_IN_PATH = re.compile(r"(/models/)[^/:?]+(:)")  # Gemini names its model in the path: /v1beta/models/M:method


class ForkSwitch:
    def __init__(self) -> None:
        self.flag = ""
        self.upstream: urllib.parse.SplitResult | None = None
        self.model = ""
        self.live: set[str] = set()  # the WebSockets opened to the fork's upstream

    def load(self, loader) -> None:
        loader.add_option("probe_fork_flag", str, "", "A file whose existence sends every request on to the fork.")
        loader.add_option("probe_fork_upstream", str, "", "The fork's upstream URL, once the flag file exists.")
        loader.add_option("probe_fork_model", str, "", "The model the fork's requests carry (empty: as sent).")

    def configure(self, updated) -> None:
        self.flag = ctx.options.probe_fork_flag
        self.model = ctx.options.probe_fork_model
        upstream = ctx.options.probe_fork_upstream
        self.upstream = urllib.parse.urlsplit(upstream) if upstream else None

    def request(self, flow: http.HTTPFlow) -> None:
        if not isinstance(flow.client_conn.proxy_mode, ReverseMode):
            return  # the forward proxy's (--all-hosts): other hosts' requests, never the model API's
        if not self.flag or self.upstream is None or not os.path.exists(self.flag):
            return
        request, upstream = flow.request, self.upstream
        request.scheme = upstream.scheme
        request.host = upstream.hostname or request.host  # the Host header follows
        request.port = upstream.port or (443 if upstream.scheme == "https" else 80)
        if self.model:
            with_model(request, self.model)
        if request.headers.get("upgrade", "").lower() == "websocket":
            self.live.add(flow.id)

    def websocket_message(self, flow: http.HTTPFlow) -> None:
        """On a socket opened to the fork's upstream, each client message asks for the fork's model too."""
        message = flow.websocket.messages[-1] if flow.websocket else None
        if not self.model or flow.id not in self.live or message is None or not message.from_client:
            return
        changed = model_changed(message.content, self.model)
        if changed is not None:
            message.content = changed

    def websocket_end(self, flow: http.HTTPFlow) -> None:
        self.live.discard(flow.id)


def with_model(request: http.Request, model: str) -> None:
    """The request asking for `model`: in its JSON body's top-level `model` (every API but Gemini's; Code Assist's
    wrapper too) and in a Gemini path. A body that is not a JSON object is left as it is."""
    request.path = MODEL_IN_PATH.sub(lambda found: f"{found[1]}{urllib.parse.quote(model, safe='')}{found[2]}",
                                     request.path)  # fmt: skip
    changed = model_changed(request.get_content() or b"", model)
    if changed is not None:
        request.set_content(changed)


def model_changed(content: bytes, model: str) -> bytes | None:
    """The JSON object with `model` for its top-level `model`, written compactly as agents write theirs; None for
    content that is not a JSON object naming a model."""
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return None
    body["model"] = model
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


addons = [ForkSwitch()]
