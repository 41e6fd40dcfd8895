"""A target's `agent.mcp`: how its agent is given the run's MCP servers (each wrapped in agent-probe's relay or put
behind a proxy of the run's), and where the user's own MCP configuration is, read (never written) with --home own."""

import re
from dataclasses import dataclass

KEYS = {
    # Why the agent cannot be given MCP servers, in one line: the only key then.
    "none": ("string", False),
    # How the servers reach the agent: claude-code (--mcp-config with --strict-mcp-config), codex (-c
    # mcp_servers.<name>.…), settings (a key of a settings file: `settings` says which).
    "style": ("string", False),
    "settings": ("mapping", False),
    # The user's own MCP configuration, read with --home own, later entries winning for a name given twice.
    "own": ("list", False),
    # Arguments a prompt run (nobody there to answer) adds for each server named for the run (--mcp-server,
    # --mcp-config), so that the agent runs its tools without asking; {name} is the server's.
    "allow": ("list of strings", False),
}
OWN_KEYS = {
    "file": ("string", True),  # ~/… or {workdir}/…, a .json or .toml file
    # The keys leading to the mapping of servers (name -> entry); {workdir} in one is the agent's working folder.
    "key": ("list of strings", True),
    "moved_by": ("string", False),  # a variable that, when set, names the folder that holds the file instead
}
# style: settings. A private home's settings file gets the servers under its key; with --home own, a settings file
# the agent takes over the user's own (named by a variable of its environment) gets them instead.
SETTINGS_KEYS = {
    "file": ("string", True),  # the settings file in the private home, as agent.files names it
    "key": ("list of strings", True),  # the keys leading to its mapping of servers (name -> entry)
    "url_key": ("string", True),  # an HTTP server's entry: the key of its URL
    "override": ("string", False),  # the variable naming a settings file that wins over the user's own
    "override_default": ("string", False),  # the file it names when unset, whose settings are kept (read, not written)
    "no_override": ("string", False),  # else, in one line, why the user's own servers go unrecorded with --home own
}
STYLES = ("claude-code", "codex", "settings")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class OwnConfig:
    file: str
    key: tuple[str, ...]
    moved_by: str = ""


@dataclass(frozen=True)
class SettingsFile:
    file: str
    key: tuple[str, ...]
    url_key: str
    override: str = ""
    override_default: str = ""
    no_override: str = ""


@dataclass(frozen=True)
class McpSwitch:
    """`none` says why the agent takes no servers from a run; else `style` says how it is given them."""

    none: str = ""
    style: str = ""
    own: tuple[OwnConfig, ...] = ()
    settings: SettingsFile | None = None
    allow: tuple[str, ...] = ()


def parse_mcp(declared: object, check) -> McpSwitch:
    """`agent.mcp`, checked by the target file's `check` (probe.runs.target_checks.Checker)."""
    where = "agent.mcp"
    check.mapping(declared, KEYS, where)
    if "none" in declared:
        if len(declared) > 1:
            raise check.fail(where, "none says the agent takes no MCP servers from a run: it goes alone")
        if not declared["none"].strip() or "\n" in declared["none"]:
            raise check.fail(f"{where}.none", "expected one line saying why")
        return McpSwitch(none=declared["none"].strip())
    if declared.get("style") not in STYLES:
        raise check.fail(f"{where}.style", f"expected one of: {', '.join(STYLES)} (or none: why there is none)")
    settings = parse_settings(declared, check, where)
    own = []
    for index, entry in enumerate(declared.get("own", [])):
        place = f"{where}.own[{index}]"
        check.mapping(entry, OWN_KEYS, place)
        file = entry["file"]
        if not file.startswith(("~/", "{workdir}/")) or "/../" in file or not file.endswith((".json", ".toml")):
            raise check.fail(f"{place}.file", "expected ~/… or {workdir}/…, a .json or .toml file")
        if not entry["key"]:
            raise check.fail(f"{place}.key", "expected the keys leading to the servers, such as [mcpServers]")
        if entry.get("moved_by") and not ENV_NAME.match(entry["moved_by"]):
            raise check.fail(f"{place}.moved_by", "expected a variable name (letters, digits, _)")
        own.append(OwnConfig(file, tuple(entry["key"]), entry.get("moved_by", "")))
    allow = tuple(declared.get("allow", ()))
    if allow and not any("{name}" in argument for argument in allow):
        raise check.fail(f"{where}.allow", "expected {name} in one of them: the server whose tools are allowed")
    return McpSwitch(style=declared["style"], own=tuple(own), settings=settings, allow=allow)


def parse_settings(declared: dict, check, where: str) -> SettingsFile | None:
    """`agent.mcp.settings`, there exactly when the style is `settings`."""
    if (declared["style"] == "settings") != ("settings" in declared):
        raise check.fail(f"{where}.settings", "expected with style: settings, and only with it")
    if "settings" not in declared:
        return None
    place, entry = f"{where}.settings", declared["settings"]
    check.mapping(entry, SETTINGS_KEYS, place)
    if entry["file"].startswith(("/", "~")) or ".." in entry["file"].split("/") or not entry["file"].endswith(".json"):
        raise check.fail(f"{place}.file", "expected a .json file inside the private home, as agent.files names it")
    if not entry["key"]:
        raise check.fail(f"{place}.key", "expected the keys leading to the servers, such as [mcpServers]")
    if entry.get("override") and not ENV_NAME.match(entry["override"]):
        raise check.fail(f"{place}.override", "expected a variable name (letters, digits, _)")
    if bool(entry.get("override")) != bool(entry.get("override_default")):
        raise check.fail(f"{place}.override_default", "expected with override, and only with it: an absolute path")
    if bool(entry.get("override")) == bool(entry.get("no_override", "").strip()):
        raise check.fail(f"{place}.override", "expected override, or no_override saying why there is none")
    if entry.get("override_default") and not entry["override_default"].startswith("/"):
        raise check.fail(f"{place}.override_default", "expected an absolute path")
    key = tuple(entry["key"])
    override, default, why = entry.get("override", ""), entry.get("override_default", ""), entry.get("no_override", "")
    return SettingsFile(entry["file"], key, entry["url_key"], override, default, " ".join(why.split()))
