"""What a secret looks like in free text, as rules: a literal probe and an anchored pattern each, and perhaps a
check of what the pattern found."""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    probe: str  # a regular expression with a literal start that the secret always contains (searched fast)
    pattern: str  # the secret; a group named `keep` at its start is kept (a scheme or a name), the rest masked
    before: int = 0  # how many characters before the probe's match the secret can start
    lowercase: bool = False  # the probe is searched for in the lowercased text
    # The name of what a match must also pass to be masked: one of probe.redact.secret_names.CHECKS, given the
    # match and the whole text (`password: string` has the shape of a secret, and is none).
    check: str = ""


# A token starts where a run of token characters starts, also right after a JSON escape (`\n`, `\u00e9`) or a
# percent-encoded character (`%20`): bodies are masked as raw JSON, where a token at the start of a line
# follows the `n` of `\n`, and a URL in a body is not decoded first.
BOUNDARY = r"(?:(?<![A-Za-z0-9_-])|(?<=\\[nrtbf])|(?<=\\u[0-9a-fA-F]{4})|(?<=%[0-9a-fA-F]{2}))"
GAP = r"(?:\s|\\[nrt])+"  # white space, also as JSON writes it


def shape(probe: str, pattern: str, before: int = 0) -> Rule:
    return Rule(probe, BOUNDARY + pattern, before)


CREDENTIAL = r"(?=[A-Za-z._~+/=-]*[0-9])[A-Za-z0-9._~+/=-]{8,}"  # token characters with a digit among them
QUOTE = r"\\?[\"']"  # a quote, perhaps escaped (JSON inside a JSON string)
# What follows a secret's name in text: `": "`, `=`, `: ` …; a quoted name needs a quoted value.
NAME_THEN_VALUE = rf"(?:{QUOTE}\s*[:=]\s*{QUOTE}|\s*[:=]\s*(?:{QUOTE})?)"
PARAMETER_NAMES = (
    r"api[_-]?key|key|access[_-]?token|refresh[_-]?token|id[_-]?token|token|auth|password|passwd|"
    r"secret|client[_-]?secret|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|"
    r"x-goog-signature|x-goog-credential|"
    # `session_token`, `bot-token`, `db.password`: any name that ends in one of these
    r"(?:[a-z0-9]+[_.-])+(?:token|key|secret|password|passwd|credential|signature)"
)
# The words that end a secret's name in free text; secret_names.secret_assignment reads the whole name.
ASSIGNED_WORDS = r"password|passwd|passphrase|secrets|secret|credentials|credential|token|key|pwd|pass|auth|signature"
# After the name: `=`, `:`, `:=`, `=>` (not `==`, `::` or `://`), perhaps quoted, as env, YAML, TOML, INI, JSON or
# shell flags write it. A quoted value runs to its quote, spaces and all; an unquoted one to a space or a quote.
ASSIGNED_VALUE = (
    r"\\?[\"']?[ \t]*(?::=|=>|[:=](?![:/=]))[ \t]*(?P<q>\\?[\"'])?)"
    # An `&` ends an unquoted value where a parameter follows (`secret=x&name=y`): in a password it is kept.
    r"(?(q)[^\"'\r\n\\]{1,256}(?=\\?[\"'])|(?:[^\s\"'`,;<>(){}\[\]\\&]|&(?![A-Za-z0-9_.-]+=))+)"
)
# The word with what can follow it in an assignment: the probes are found only there, not at every `keys` and
# `tokens` of prose and code.
ASSIGNED_AFTER = "=:\"'\\ \t"
ASSIGNED_PROBE = rf"(?:{ASSIGNED_WORDS})[=:\"'\\ \t]"
FLAG_PROBE = rf"(?:{ASSIGNED_WORDS})[ \t]"
TEXT_VALUE = r"[^\s\"'\\]+"  # a word, up to a space, a quote or an escape
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


RULES = [
    # OpenAI (also sk-proj-, sk-admin-, sk-svcacct-), Anthropic (sk-ant-), OpenRouter, Cerebras (csk-); Stripe.
    shape(r"sk[-_]", r"(?:c?sk-[A-Za-z0-9_-]{16,}|sk_(?:live|test)_[A-Za-z0-9]{16,})", 1),
    shape(r"rk_", r"rk_(?:live|test)_[A-Za-z0-9]{16,}"),  # Stripe restricted keys
    shape(r"AIza", r"AIza[0-9A-Za-z_-]{20,}"),  # Google API keys
    shape(r"ya29\.", r"ya29\.[0-9A-Za-z_-]{20,}"),  # Google OAuth access tokens
    shape(r"eyJ", r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),  # JWTs: header.payload.signature
    shape(r"gh[pousr]_", r"gh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub: personal, OAuth, user, server, refresh
    shape(r"github_pat_", r"github_pat_[A-Za-z0-9_]{20,}"),
    shape(r"A[KS]IA", r"A[KS]IA[A-Z0-9]{16}(?![A-Za-z0-9])"),  # AWS access key ids: long-lived, temporary
    # Slack and xAI. Each probe starts after the x: a body of x's (a padded stream) would make `x…` probes crawl.
    shape(r"ox[abprse]-", r"xox[abprse]-[A-Za-z0-9-]{10,}", 1),
    shape(r"app-[0-9]-", r"xapp-[0-9]-[A-Za-z0-9-]{10,}", 1),
    shape(r"ai-", r"xai-[A-Za-z0-9]{30,}", 1),
    shape(r"glpat-", r"glpat-[A-Za-z0-9_-]{16,}"),  # GitLab
    shape(r"hf_", r"hf_[A-Za-z0-9]{30,}"),  # Hugging Face
    shape(r"npm_", r"npm_[A-Za-z0-9]{30,}"),
    shape(r"p(?:ypi-|plx-)", r"(?:pypi-AgE[A-Za-z0-9_-]{40,}|pplx-[A-Za-z0-9]{30,})"),  # PyPI, Perplexity
    shape(r"SG\.", r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),  # SendGrid
    shape(r"gsk_", r"gsk_[A-Za-z0-9]{30,}"),  # Groq
    shape(r"r8_", r"r8_[A-Za-z0-9]{30,}"),  # Replicate
    shape(r"_v1_", r"do[por]_v1_[a-f0-9]{40,}", 3),  # DigitalOcean
    shape(r"shp", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32,}"),  # Shopify
    shape(r"whsec_", r"whsec_[A-Za-z0-9+/=]{24,}"),  # webhook signing secrets
    shape(r"GOCSPX-", r"GOCSPX-[A-Za-z0-9_-]{20,}"),  # Google OAuth client secrets
    shape(r"ATATT3", r"ATATT3[A-Za-z0-9_=-]{20,}"),  # Atlassian API tokens
    shape(r"sntry", r"sntry[su]_[A-Za-z0-9+/=_-]{20,}"),  # Sentry auth tokens
    shape(r"lin_api_", r"lin_api_[A-Za-z0-9]{20,}"),  # Linear
    shape(r"ntn_", r"ntn_[A-Za-z0-9]{20,}"),  # Notion
    shape(r"PMAK-", r"PMAK-[A-Za-z0-9-]{20,}"),  # Postman
    # Telegram bot tokens, `<bot id>:AA<33 or more>`, also right after the `bot` of an API URL
    # (`/bot<id>:…/sendMessage`, where no token boundary is); and whatever token follows `bot<id>:` there.
    Rule(r":AA", r"[0-9]{8,10}:AA[0-9A-Za-z_-]{33,}", 10),
    Rule(r"bot[0-9]", r"(?P<keep>(?i:bot))[0-9]{8,10}:[0-9A-Za-z_-]{30,}", lowercase=True),
    # Discord's webhook URLs carry their token in the path (Slack's are among the maintained rules).
    Rule(r"/api/webhooks/", r"(?P<keep>/api/webhooks/[0-9]{5,25}/)[A-Za-z0-9_-]{40,100}"),
    # A private key in PEM, whole; in JSON its line ends are written `\n`, and a cut-off one is masked too.
    Rule(
        r"PRIVATE KEY",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:(?!-----END )[A-Za-z0-9+/=\s:,.()-]|\\[rn])*"
        r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)?",
        40,
    ),
    # A credential after an auth scheme (a curl command in a tool call), the scheme kept.
    Rule(r"bearer", rf"(?P<keep>\b(?i:bearer){GAP}){CREDENTIAL}", lowercase=True),
    Rule(r"basic", rf"(?P<keep>\b(?i:basic){GAP})(?=[A-Za-z0-9+/=]{{16}})[A-Za-z0-9+/]+=*", lowercase=True),
    # A header line naming a secret, in text: `Authorization: Bearer x`, `x-api-key: "x"`, `x-auth-token=x`.
    # After a quoted name the value must be quoted too: `"authorization": 12345678` is JSON, and an unquoted
    # mask there would break it (secret-named fields with numbers are masked, quoted, by their name instead).
    Rule(
        r"auth",
        rf"(?P<keep>(?i:authorization|auth-token){NAME_THEN_VALUE}"
        rf"(?:(?i:bearer|basic|token|digest){GAP})?){CREDENTIAL}",
        6,
        lowercase=True,
    ),
    # `api-key.<key>` too: OpenAI's Realtime API takes a key as a WebSocket subprotocol, `openai-insecure-api-key.…`.
    Rule(
        r"api-key", rf"(?P<keep>(?i:api-key){NAME_THEN_VALUE.replace('[:=]', '[:=.]')})" + CREDENTIAL, 7, lowercase=True
    ),
    # The user:password of a URL written in any text (a prompt, a tool call's `git clone`), the scheme kept.
    Rule(r"://", r"(?P<keep>://)[^\s/@:'\"<>\\]+:[^\s/@'\"<>\\]+(?=@)"),
    # A URL parameter naming a secret, anywhere in text: `?key=…`, `&access_token=…`.
    *[
        Rule(rf"{name}=", rf"(?P<keep>[?&#;](?i:{PARAMETER_NAMES})=)[^&#\s\"'<>\\]+", 24, True, "not_a_mask")
        for name in ("key", "token", "auth", "passw(?:or)?d", "secret", "sig", "signature", "credential")
    ],
    # Free text: what an agent reads from a user's files and sends on. `DB_PASSWORD=…`, `password: …`,
    # `"client_secret": "…"`, `--token=…`, `AccountKey=…;`, `Signature=<hex>`.
    Rule(
        ASSIGNED_PROBE,
        rf"(?P<keep>(?P<word>(?i:{ASSIGNED_WORDS})){ASSIGNED_VALUE}",
        lowercase=True,
        check="secret_assignment",
    ),
    Rule(
        FLAG_PROBE,
        rf"(?P<keep>(?P<word>(?i:{ASSIGNED_WORDS}))[ \t]+){TEXT_VALUE}",
        lowercase=True,
        check="flag_value",
    ),
    # `Cookie: a=b; c=d` and `Set-Cookie: …` lines: the whole value.
    Rule(
        r"cookie",
        r"(?P<keep>(?P<word>(?i:cookie))\\?[\"']?[ \t]*:[ \t]*(?P<q>\\?[\"'])?)[^\r\n\\\"']+",
        lowercase=True,
        check="cookie_line",
    ),
    Rule(r"password", rf"(?P<keep>password[ \t]+){TEXT_VALUE}", check="netrc_password"),  # .netrc
    # curl's `-u user:password` (and `--user`, `--proxy-user`): the pair, as the command line's masking does.
    Rule(
        r"-u|--user|--proxy-user",
        r"(?P<keep>(?:--proxy-user|--user|-u)(?:[ \t]+|=)?\\?[\"']?)[^\s:'\"\\/@]{1,64}:[^\s'\"@\\]+",
        check="standalone",
    ),
    Rule(r"-p", rf"(?P<keep>-p)(?!-){TEXT_VALUE}", check="mysql_password"),  # `mysql -pS3cret`
    Rule(r"sshpass", rf"(?P<keep>sshpass[ \t]+-p[ \t]*){TEXT_VALUE}", check="standalone"),
    # An account's id inside an id of another kind (Claude Code's `user_<hash>_account_<uuid>_session_<uuid>`),
    # masked as the account's id is wherever it stands alone (secret_names.IDENTIFIER_SUFFIXES).
    Rule(r"_account_", rf"(?P<keep>_account_){UUID}"),
]


# Every string each rule's probe matches, spelled out: the text is scanned for these with `find`, which runs at
# memory speed for one character, where a regular expression per probe would read the whole text 40 times.
# A probe that is one literal (`ya29\.`) is its own needle; the others are listed here, and a rule whose probe is
# neither fails at import instead of never being looked for.
NEEDLES = {
    r"sk[-_]": ("sk-", "sk_"),
    r"gh[pousr]_": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    r"A[KS]IA": ("AKIA", "ASIA"),
    r"ox[abprse]-": ("oxa-", "oxb-", "oxp-", "oxr-", "oxs-", "oxe-"),
    r"app-[0-9]-": tuple(f"app-{digit}-" for digit in range(10)),
    r"p(?:ypi-|plx-)": ("pypi-", "pplx-"),
    r"passw(?:or)?d=": ("passwd=", "password="),
    ASSIGNED_PROBE: tuple(word + after for word in ASSIGNED_WORDS.split("|") for after in ASSIGNED_AFTER),
    FLAG_PROBE: tuple(word + after for word in ASSIGNED_WORDS.split("|") for after in " \t"),
    r"-u|--user|--proxy-user": ("-u", "--user", "--proxy-user"),
    r"bot[0-9]": tuple(f"bot{digit}" for digit in range(10)),
}


# A part of a probe that is a literal: an escaped symbol, or a character standing for itself.
LITERAL_PART = re.compile(r"\\[^A-Za-z0-9]|[^.^$*+?{}\[\]\\|()]")


def needles_of(rule: Rule) -> tuple[str, ...]:
    """Every string the rule's probe matches."""
    parts = LITERAL_PART.findall(rule.probe)
    needles = NEEDLES.get(rule.probe) or (
        ("".join(part[-1] for part in parts),) if "".join(parts) == rule.probe else ()
    )
    if not needles:
        raise ValueError(f"secret_shapes: the probe {rule.probe!r} is not a literal and has no needles")
    wrong = [needle for needle in needles if not re.fullmatch(rule.probe, needle)]
    if wrong:
        raise ValueError(f"secret_shapes: the probe {rule.probe!r} does not match its needles {wrong}")
    return needles
