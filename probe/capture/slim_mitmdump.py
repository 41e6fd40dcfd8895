"""mitmdump with only the addons the recorder needs: `python -m probe.capture.slim_mitmdump`, the arguments of
mitmdump's that the capture passes (--listen-host, -s, --mode, --set).

mitmdump imports and starts every addon mitmproxy ships (replay, blocklists, the onboarding web app, HAR export,
...), for features no capture turns on: a third of each start's time (bench/start.py). This starts
mitmproxy's own Master the way mitmdump does (mitmproxy.tools.main.run), with the addons listed in
`recorder_addons`. Unlike mitmdump it reads no config.yaml from the confdir, which is the run's own (its CA) or
the project's state folder. It imports only mitmproxy and the standard library, and runs under the Python of this
project's mitmproxy (probe.capture.proxies).
"""

import argparse
import asyncio
import importlib.util
import logging
import signal
import sys
import types


def addon_modules_alone() -> None:
    """mitmproxy.addons' __init__ imports every addon module, and mitmproxy.master imports its termlog through it:
    the package goes into sys.modules bare (its folder, no __init__), so that only the addons imported below are
    loaded. Nothing of mitmproxy reads the package's own names but mitmdump's default_addons, not used here."""
    spec = importlib.util.find_spec("mitmproxy.addons")
    package = types.ModuleType(spec.name)
    package.__spec__, package.__path__ = spec, list(spec.submodule_search_locations)
    package.__file__, package.__package__ = spec.origin, spec.name
    sys.modules[spec.name] = package


def recorder_addons() -> list:
    """The addons of mitmdump that a capture uses, in mitmdump's order (that order is the order of their hooks).
    Left out, each off in a capture or there for an interactive user: anticache, anticomp, block (it refuses
    clients from other hosts; the proxies listen on 127.0.0.1 only), blocklist, browser, clientplayback,
    command_history, comment, cut, dns_resolver (DNS mode), dumper (flow_detail 0 shows nothing), export,
    keepserving and readfile (reading flow files), maplocal, mapremote, modifybody, modifyheaders, onboarding (the
    mitm.it page), proxyauth (the recorder checks the forward proxy's credentials with its own instance), save,
    savehar, serverplayback, stickyauth, stickycookie, strip_dns_https_records (DNS mode), upstream_auth (the
    recorder sets the upstream proxy's credentials itself)."""
    from mitmproxy.addons import (
        core,
        disable_h2c,
        errorcheck,
        next_layer,
        proxyserver,
        script,
        tlsconfig,
        update_alt_svc,
    )

    return [
        core.Core(),  # the options' checks (mode, body size limits, ...), and the `set` command
        disable_h2c.DisableH2C(),  # an h2c upgrade is refused as mitmdump refuses it, not passed on
        proxyserver.Proxyserver(),  # the listeners, and the options of connections (connection_strategy, ...)
        script.ScriptLoader(),  # -s: the capture addon and a fork's switch
        next_layer.NextLayer(),  # which protocol each connection speaks
        tlsconfig.TlsConfig(),  # TLS to https upstreams, and the forward proxy's certificates from the run's CA
        update_alt_svc.UpdateAltSvc(),  # Alt-Svc answers point at the reverse proxy, as through mitmdump
        errorcheck.ErrorCheck(),  # an error at start (a port taken, a script that fails) ends it with exit code 1
    ]


def parse_arguments(arguments: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="slim_mitmdump", description=__doc__.splitlines()[0])
    parser.add_argument("--listen-host", dest="listen_host")
    parser.add_argument("-s", "--scripts", dest="scripts", action="append", default=[])
    parser.add_argument("--mode", "-m", dest="mode", action="append", default=[])
    parser.add_argument("--set", dest="setoptions", action="append", default=[], metavar="option[=value]")
    return parser.parse_args(arguments)


async def serve(arguments: argparse.Namespace) -> None:
    """mitmproxy.tools.main.run for mitmdump, with recorder_addons in place of DumpMaster's."""
    from mitmproxy import exceptions, master, options

    # As mitmdump sets them (mitmproxy.tools.main.run).
    logging.getLogger().setLevel(logging.DEBUG)
    for name in ("tornado", "asyncio", "hpack", "quic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    opts = options.Options()
    proxy = master.Master(opts, with_termlog=True)  # its log on stdout and stderr, as mitmdump writes it
    proxy.addons.add(*recorder_addons())
    given = {"listen_host": arguments.listen_host, "mode": arguments.mode or None, "scripts": arguments.scripts}
    try:
        # mitmdump's order: --set first, deferred for the scripts' own options, which exist once a script loads.
        opts.set(*arguments.setoptions, defer=True)
        opts.update(**{name: value for name, value in given.items() if value})
    except exceptions.OptionsError as error:
        print(f"{sys.argv[0]}: {error}", file=sys.stderr)
        sys.exit(1)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, proxy.shutdown)  # Ctrl-C: the clean shutdown, the addons' `done`
    loop.add_signal_handler(signal.SIGTERM, proxy.shutdown)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # a client gone mid-write is that connection's error only
    await proxy.run()


def main() -> None:
    arguments = parse_arguments(sys.argv[1:])
    addon_modules_alone()
    asyncio.run(serve(arguments))


if __name__ == "__main__":
    main()
