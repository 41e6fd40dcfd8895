"""Credential shapes as an agent meets them in a user's files and commands, each with the secret it holds: for the
tests that feed every output of a run to established secret scanners. None is real, and no secret is written whole
here: each is joined from pieces when the module loads, so that scanners of this repository do not take the file
for a leak."""


def shape(name: str, before: str, pieces: tuple[str, ...], after: str = "") -> tuple[str, str, str]:
    """(name, the text an agent reads or runs, the secret in it): the secret joined from `pieces`, between
    `before` and `after`."""
    secret = "".join(pieces)
    return name, before + secret + after, secret


CORPUS = [
    shape("env-db-password", "DB_PASSWORD=", ("Vq8xLm2R", "t7Zp4Kw9")),
    shape("env-azure-openai", "AZURE_OPENAI_API_KEY=", ("3f9c2a7e1b8d4c6f", "0a5e9d2b7c1f4a8e")),
    shape("env-quoted", 'export STRIPE_SECRET="', ("Wq3Er5Ty7U", "i9Op1As3Df5"), '"'),
    shape("env-github-token", "GITHUB_TOKEN=", ("Lk4Jh6Gf8Ds0A", "q2Ws4Ed6Rf8Tg")),
    shape(
        "aws-secret-ini",
        "[default]\naws_access_key_id = AKIA" + "QYLPMN5HHHFPZAM2\naws_secret_access_key = ",
        ("wJalrXUtnFEMI/K7MDEN", "G/bPxRfiCYzQ8m2Lw4Kp"),
    ),
    shape("aws-key-id", "aws_access_key_id = ", ("AKIA", "QYLPMN5H", "HHFPZAM3")),
    shape("yaml-password", "database:\n  user: app\n  password: ", ("Tr0ub4do", "r&3horse")),
    shape("yaml-quoted-secret", "oauth:\n  client_secret: '", ("Zp5Xc7Vb9N", "m1Qw3Er5Ty"), "'"),
    shape("toml-api-key", '[service]\napi_key = "', ("pk_9Xk29vLq", "8ZtR4mW7pN2s"), '"'),
    shape("ini-secret", "[auth]\nsecret=", ("Qm9vLq8ZtR", "4mW7pN2sY5")),
    shape("json-client-secret", '{"client_secret": "', ("Kq8Xk29vLq", "8ZtR4mW7pN"), '"}'),
    shape("js-password", 'const config = { password: "', ("Rg7Th9Yj1", "Uk3Il5Op7"), '" };'),
    shape("python-token", 'SLACK_BOT_TOKEN = "', ("Mn3Bv5Cx7Z", "a9Sd1Fg3Hj5"), '"'),
    shape("netrc", "machine api.example.com login bob password ", ("Xk29v", "Lq8Zt")),
    shape("shell-flag", "mytool --password ", ("Pz8Xk29v", "Lq8ZtR4m")),
    shape("shell-flag-equals", "deploy --api-key=", ("Hy6Gt4Fr2D", "e0Sw8Aq6Zx")),
    shape("mysql-p", "mysql -u root -p", ("S3cretP", "assw0rd"), " mydb"),
    shape("sshpass", "sshpass -p ", ("Ss8Hh6P", "p4Aa2Ss0"), " ssh deploy@host"),
    shape("curl-u", "curl -u admin:", ("Hunter2", "Secret9"), " https://example.com/api"),
    shape("postgres-url", "DATABASE_URL=postgres://admin:", ("PgPw8X", "k29vLq"), "@db.internal/prod"),
    shape("mongodb-url", "mongodb+srv://app:", ("Mo7Ng8", "Db9Pw0"), "@cluster0.example.net/test"),
    shape("redis-url", "REDIS_URL=redis://:", ("Re4Di5", "Sp6Ww7"), "@cache:6379/0"),
    shape("slack-webhook", "https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/", ("q8Xk29vLq8Zt", "R4mW7pN2sY5c")),
    shape(
        "discord-webhook",
        "https://discord.com/api/webhooks/123456789012345678/",
        ("AbCdEfGhIjKlMnOpQrStUvWxYz0123456", "789_-AbCdEfGhIjKlMnOpQrStUvWxYz01"),
    ),
    shape("telegram-bot", "bot = Bot('", ("1234567890:AAHdqTcvCH1v", "GWJxfSeofSAs0K5PALDsaw1"), "')"),
    shape("cookie-line", "Cookie: sessionid=", ("9f8e7d6c5b4a3928", "1706f5e4d3c2b1a0")),
    shape("set-cookie-line", "Set-Cookie: auth=", ("Ck9Oo8Kk7I", "i6Ee5Aa4Uu3"), "; Path=/; HttpOnly"),
    shape(
        "sigv4",
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIA"
        + "QYLPMN5HHHFPZAM4/20260830/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=",
        ("5d672d79c15b13162d9279b0855cfba6", "789a8edb4c82c400e06b5924a6f2b5d7"),
    ),
    shape(
        "azure-storage",
        "DefaultEndpointsProtocol=https;AccountName=probe;AccountKey=",
        ("02+dfoUCW1Ugtn13Z0678wiczDmcY4Yr+dqMUWvHuJh/", "8LSuX5f7jR6Gf4lDE39guhwAtOc9VEccdgy2a2L87Q=="),
        ";EndpointSuffix=core.windows.net",
    ),
    shape("databricks", "DATABRICKS_HOST=x\ntoken ", ("dapi", "1234567890abcdef", "1234567890abcdef")),
    shape("session-token-url", "GET https://example.com/api?session_token=", ("Zq8Xk29vLq", "8ZtR4mW7pN"), "&page=2"),
    shape("openai", "OPENAI_API_KEY=", ("sk-proj-", "Q2w3E4r5T6y7U8", "i9O0pAsDfGhJkL")),
    shape("anthropic", "client = Anthropic(api_key='", ("sk-ant-api03-", "Xy7Zq9Wv2Uu4Tt6S", "s8Rr0Qq1Pp3Oo5Nn"), "')"),
    shape("github-pat", "git clone https://", ("ghp_", "1a2B3c4D5e6F7g8H9i", "0J1k2L3m4N5o6P7q8R"), "@github.com/o/r"),
    shape("google-api", "const key = '", ("AIza", "SyD4f8Hk2Lm6Np0Qr", "4St8Uv2Wx6Yz0Ab1C"), "';"),
    shape("stripe", "stripe.api_key = '", ("sk_live_", "51H8aBcDeFgH", "iJkLmNoPqRsTu"), "'"),
    shape("gitlab", "GITLAB=", ("glpat-", "AbCdEfGh12", "34567890Xy")),
    shape("huggingface", "login(token='", ("hf_", "AbCdEfGhIjKlMnOpQr", "StUvWxYz0123456789"), "')"),
    shape("npm", "//registry.npmjs.org/:_authToken=", ("npm_", "AbCdEfGhIjKlMnOpQr", "StUvWxYz0123456789")),
    shape("sendgrid", "SENDGRID=", ("SG.", "AbCdEfGhIjKlMnOpQrSt.UvWxYz012", "3456789AbCdEfGhIjKlMnOpQrStUvW")),
    shape("slack-bot", "token: ", ("xoxb-", "123456789012-123456789012", "3-AbCdEfGhIjKlMnOpQrStUvWx")),
    shape(
        "jwt",
        "Authorization: Bearer ",
        ("eyJ", "hbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn", "0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
    ),
    shape(
        "rsa-private-key",
        "-----BEGIN RSA PRIVATE" + " KEY-----\n",
        ("MIIEowIBAAKCAQEA7b", "q3Rk9Lm2Nx8Qp4Zt6Wv"),
        "\nQUJDREVGR0gxMjM0NTY3ODkw\n-----END RSA PRIVATE KEY-----",
    ),
    shape(
        "openssh-private-key",
        "-----BEGIN OPENSSH PRIVATE" + " KEY-----\n",
        ("b3BlbnNzaC1rZXktdjEAA", "AAABG5vbmUAAAAEbm9uZQ"),
        "\nAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBx7Qp9\n-----END OPENSSH PRIVATE KEY-----",
    ),
    shape(
        "pgp-private-key",
        "-----BEGIN PGP PRIVATE KEY" + " BLOCK-----\nVersion: GnuPG v2.0.22\n\n",
        ("lQOYBF0aBcDeFgHiJk", "LmNoPqRsTuVwXyZ0123"),
        "\n=Ab3d\n-----END PGP PRIVATE KEY BLOCK-----",
    ),
    # Added later, at the end: tests name some entries by their place.
    shape(
        "telegram-api-url",
        "curl https://api.telegram.org/bot",
        ("7081234567:AAFq9Zx3Wv5Ut7Sr", "1Qp3On5Ml7Kj9Ih1Gf3"),
        "/sendMessage?chat_id=42",
    ),
    shape("telegram-bot-in-text", "the bot", ("5566778899:Bx7Cv9Nm1Lk3Jh5G", "f7Ds9Ap1Oi3Uy5Tr7Ew"), " answers"),
    shape(
        "percent-encoded-query",
        "fetch('https://api.example.com/v1/items?access_token=",
        ("Zq8Xk29vLq%2B8Zt", "R4mW7pN2sY5c%3D"),
        "&limit=5')",
    ),
    shape("form-password", "grant_type=password&username=bob&password=", ("S3cr3tPa%21ss", "w0rd9Kq")),
]

SECRETS = [secret for _, _, secret in CORPUS]
