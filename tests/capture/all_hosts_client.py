"""A client written without anything of agent-probe, for the --all-hosts tests: the standard library only, certificate
checks on. It reads the proxy variables and SSL_CERT_FILE itself, as a runtime does.

    python all_hosts_client.py model     one Chat Completions call through $OPENAI_BASE_URL, then a telemetry batch
                                          carrying a token to one host and an update check to another
    python all_hosts_client.py loopback  CONNECTs to this machine through the proxy (each should be refused)
    python all_hosts_client.py distrust  an HTTPS call through the proxy trusting no CA at all (the handshake fails)
    python all_hosts_client.py listening the addresses the proxy listens on, from /proc/net/tcp and tcp6
    python all_hosts_client.py ca        the modes of the CA's folder and of its files
    python all_hosts_client.py otlp      an OTLP log export whose one record holds only its body, a Cookie line, to
                                          another host: in protobuf, then the same in OTLP JSON

Each outcome is printed as one line `NAME: what happened`.
"""

import base64
import http.client
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

TOKEN = "sk-proj-" + "Q7f2Lm9XwR4tYb8Kc3Vn6Hj1Pz5Ds0Ag"  # a made-up key, in the shape of a real one
SESSION = "9f8e7d6c5b4a3928" + "1706f5e4d3c2b1a0"  # a made-up session cookie
OTLP_LOGS = "https://telemetry.agent-example.test/v1/logs"


def opener_for(url: str, context: ssl.SSLContext) -> urllib.request.OpenerDirector:
    host = urllib.parse.urlsplit(url).hostname or ""
    direct = host in os.environ.get("NO_PROXY", "").split(",")
    proxies = {} if direct else {"https": os.environ["HTTPS_PROXY"], "http": os.environ["HTTP_PROXY"]}
    return urllib.request.build_opener(
        urllib.request.ProxyHandler(proxies), urllib.request.HTTPSHandler(context=context)
    )


def call(name: str, request: urllib.request.Request, context: ssl.SSLContext) -> bytes | None:
    try:
        with opener_for(request.full_url, context).open(request, timeout=30) as response:
            body = response.read()
            print(f"{name}: {response.status}", flush=True)
            return body
    except urllib.error.HTTPError as error:
        print(f"{name}: HTTP {error.code}", flush=True)
    except (urllib.error.URLError, OSError) as error:
        print(f"{name}: failed: {error}", flush=True)
    return None


def model(context: ssl.SSLContext) -> None:
    base = os.environ["OPENAI_BASE_URL"].rstrip("/")
    question = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello."}]}
    headers = {"content-type": "application/json", "authorization": "Bearer sk-stand-in-key"}
    body = call(
        "model", urllib.request.Request(f"{base}/chat/completions", json.dumps(question).encode(), headers), context
    )
    if body:
        print("answer:", json.loads(body)["choices"][0]["message"]["content"][:80].replace("\n", " "), flush=True)
    batch = {
        "api_key": TOKEN,
        "batch": [{"event": "session_start", "properties": {"authorization": f"Bearer {TOKEN}"}}],
    }
    telemetry = urllib.request.Request(
        "https://telemetry.agent-example.test/v1/batch",
        json.dumps(batch).encode(),
        {"content-type": "application/json"},
    )
    call("telemetry", telemetry, context)
    call(
        "update-check", urllib.request.Request("https://updates.agent-example.test/latest.json?channel=stable"), context
    )


def loopback(context: ssl.SSLContext) -> None:
    proxy = urllib.parse.urlsplit(os.environ["HTTPS_PROXY"])
    # The proxy's credentials, from its URL, as a client library sends them.
    credentials = base64.b64encode(f"{proxy.username}:{proxy.password}".encode()).decode()
    authorization = {"Proxy-Authorization": f"Basic {credentials}"}
    # Literal loopback, its name, and two other spellings of its address.
    for host in ("127.0.0.1", "localhost", "2130706433", "127.1"):
        connection = http.client.HTTPSConnection(proxy.hostname, proxy.port, timeout=30, context=context)
        connection.set_tunnel(host, 9, authorization)
        try:
            connection.request("GET", "/")
            print(f"connect {host}: answered {connection.getresponse().status}", flush=True)
        except OSError as error:
            print(f"connect {host}: failed: {error}", flush=True)
        finally:
            connection.close()
    # Plain HTTP in absolute form, sent to the proxy whatever NO_PROXY says.
    connection = http.client.HTTPConnection(proxy.hostname, proxy.port, timeout=30)
    try:
        connection.request("GET", "http://127.0.0.1:9/admin", headers=authorization)
        print(f"plain 127.0.0.1: answered {connection.getresponse().status}", flush=True)
    except OSError as error:
        print(f"plain 127.0.0.1: failed: {error}", flush=True)
    finally:
        connection.close()


def listening(_: ssl.SSLContext) -> None:
    """The proxy's listening sockets, as the kernel lists them (/proc/net/tcp and tcp6)."""
    port = urllib.parse.urlsplit(os.environ["HTTPS_PROXY"]).port
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    print(f"listening: {table} {address}", flush=True)


def ca_folder(_: ssl.SSLContext) -> None:
    """The modes of the folder holding the CA it was told to trust, and of each file in it."""
    folder = os.path.dirname(os.environ["SSL_CERT_FILE"])
    print(f"ca folder: {folder} {os.stat(folder).st_mode & 0o777:o}", flush=True)
    for name in sorted(os.listdir(folder)):
        print(f"ca file: {name} {os.stat(os.path.join(folder, name)).st_mode & 0o777:o}", flush=True)


def length_delimited(number: int, value: bytes) -> bytes:
    """One protobuf field of wire type 2 (lengths below 128 here: one byte each)."""
    assert len(value) < 128
    return bytes([number << 3 | 2, len(value)]) + value


def otlp(context: ssl.SSLContext) -> None:
    text = f"Cookie: sessionid={SESSION}"
    # ExportLogsServiceRequest{resource_logs{scope_logs{log_records{body{string_value}}}}}: a record with its body
    # only, whose bytes (`*4\n2Cookie: …`) are all printable.
    record = length_delimited(5, length_delimited(1, text.encode()))
    export = length_delimited(1, length_delimited(2, length_delimited(2, record)))
    as_json = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": text}}]}]}]}
    for body, kind in ((export, "application/x-protobuf"), (json.dumps(as_json).encode(), "application/json")):
        call(f"otlp {kind}", urllib.request.Request(OTLP_LOGS, body, {"content-type": kind}), context)


def distrust(_: ssl.SSLContext) -> None:
    trusting_nobody = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # checks on, and no CA to check against
    call("distrust", urllib.request.Request("https://pinned.agent-example.test/config"), trusting_nobody)


if __name__ == "__main__":
    context = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    for step in sys.argv[1:] or ["model"]:
        steps = {"model": model, "loopback": loopback, "distrust": distrust, "listening": listening, "ca": ca_folder}
        (steps | {"otlp": otlp})[step](context)
