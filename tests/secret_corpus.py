"""Credential shapes as an agent meets them in a user's files and commands, each with the secret it holds: for the
tests that feed every output of a run to established secret scanners. None is real; each is written in pieces so
that scanners of this repository do not take the file for a leak."""

# (name, the text an agent reads or runs, the secret in it)
CORPUS = [
    ("env-db-password", "DB_PASSWORD=" + "Vq8xLm2Rt7Zp4Kw9", "Vq8xLm2Rt7Zp4Kw9"),
    (
        "env-azure-openai",
        "AZURE_OPENAI_API_KEY=" + "3f9c2a7e1b8d4c6f0a5e9d2b7c1f4a8e",
        "3f9c2a7e1b8d4c6f0a5e9d2b7c1f4a8e",
    ),
    ("env-quoted", 'export STRIPE_SECRET="' + 'Wq3Er5Ty7Ui9Op1As3Df5"', "Wq3Er5Ty7Ui9Op1As3Df5"),
    ("env-github-token", "GITHUB_TOKEN=" + "Lk4Jh6Gf8Ds0Aq2Ws4Ed6Rf8Tg", "Lk4Jh6Gf8Ds0Aq2Ws4Ed6Rf8Tg"),
    (
        "aws-secret-ini",
        "[default]\naws_access_key_id = AKIA" + "QYLPMN5HHHFPZAM2\naws_secret_access_key = "
        "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzQ8m2Lw4Kp",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8m2Lw4Kp",
    ),
    ("aws-key-id", "aws_access_key_id = AKIA" + "QYLPMN5HHHFPZAM3", "AKIAQYLPMN5HHHFPZAM3"),
    ("yaml-password", "database:\n  user: app\n  password: " + "Tr0ub4dor&3horse", "Tr0ub4dor&3horse"),
    ("yaml-quoted-secret", "oauth:\n  client_secret: '" + "Zp5Xc7Vb9Nm1Qw3Er5Ty'", "Zp5Xc7Vb9Nm1Qw3Er5Ty"),
    ("toml-api-key", '[service]\napi_key = "' + 'pk_9Xk29vLq8ZtR4mW7pN2s"', "pk_9Xk29vLq8ZtR4mW7pN2s"),
    ("ini-secret", "[auth]\nsecret=" + "Qm9vLq8ZtR4mW7pN2sY5", "Qm9vLq8ZtR4mW7pN2sY5"),
    ("json-client-secret", '{"client_secret": "' + 'Kq8Xk29vLq8ZtR4mW7pN"}', "Kq8Xk29vLq8ZtR4mW7pN"),
    ("js-password", 'const config = { password: "' + 'Rg7Th9Yj1Uk3Il5Op7" };', "Rg7Th9Yj1Uk3Il5Op7"),
    ("python-token", 'SLACK_BOT_TOKEN = "' + 'Mn3Bv5Cx7Za9Sd1Fg3Hj5"', "Mn3Bv5Cx7Za9Sd1Fg3Hj5"),
    ("netrc", "machine api.example.com login bob password " + "Xk29vLq8Zt", "Xk29vLq8Zt"),
    ("shell-flag", "mytool --password " + "Pz8Xk29vLq8ZtR4m", "Pz8Xk29vLq8ZtR4m"),
    ("shell-flag-equals", "deploy --api-key=" + "Hy6Gt4Fr2De0Sw8Aq6Zx", "Hy6Gt4Fr2De0Sw8Aq6Zx"),
    ("mysql-p", "mysql -u root -p" + "S3cretPassw0rd mydb", "S3cretPassw0rd"),
    ("sshpass", "sshpass -p " + "Ss8Hh6Pp4Aa2Ss0 ssh deploy@host", "Ss8Hh6Pp4Aa2Ss0"),
    ("curl-u", "curl -u admin:" + "Hunter2Secret9 https://example.com/api", "Hunter2Secret9"),
    ("postgres-url", "DATABASE_URL=postgres://admin:" + "PgPw8Xk29vLq@db.internal/prod", "PgPw8Xk29vLq"),
    ("mongodb-url", "mongodb+srv://app:" + "Mo7Ng8Db9Pw0@cluster0.example.net/test", "Mo7Ng8Db9Pw0"),
    ("redis-url", "REDIS_URL=redis://:" + "Re4Di5Sp6Ww7@cache:6379/0", "Re4Di5Sp6Ww7"),
    (
        "slack-webhook",
        "https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/" + "q8Xk29vLq8ZtR4mW7pN2sY5c",
        "q8Xk29vLq8ZtR4mW7pN2sY5c",
    ),
    (
        "discord-webhook",
        "https://discord.com/api/webhooks/123456789012345678/"
        + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIjKlMnOpQrStUvWxYz01",
        "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIjKlMnOpQrStUvWxYz01",
    ),
    (
        "telegram-bot",
        "bot = Bot('1234567890:" + "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1')",
        "1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1",
    ),
    ("cookie-line", "Cookie: sessionid=" + "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
    (
        "set-cookie-line",
        "Set-Cookie: auth=" + "Ck9Oo8Kk7Ii6Ee5Aa4Uu3; Path=/; HttpOnly",
        "Ck9Oo8Kk7Ii6Ee5Aa4Uu3",
    ),
    (
        "sigv4",
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIA" + "QYLPMN5HHHFPZAM4/20260830/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=" + "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
        "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    ),
    (
        "azure-storage",
        "DefaultEndpointsProtocol=https;AccountName=probe;AccountKey="
        + "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
        + ";EndpointSuffix=core.windows.net",
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    ),
    (
        "databricks",
        "DATABRICKS_HOST=x\ntoken dapi" + "1234567890abcdef1234567890abcdef",
        "dapi1234567890abcdef1234567890abcdef",
    ),
    (
        "session-token-url",
        "GET https://example.com/api?session_token=" + "Zq8Xk29vLq8ZtR4mW7pN&page=2",
        "Zq8Xk29vLq8ZtR4mW7pN",
    ),
    ("openai", "OPENAI_API_KEY=sk-proj-" + "Q2w3E4r5T6y7U8i9O0pAsDfGhJkL", "sk-proj-Q2w3E4r5T6y7U8i9O0pAsDfGhJkL"),
    (
        "anthropic",
        "client = Anthropic(api_key='sk-ant-api03-" + "Xy7Zq9Wv2Uu4Tt6Ss8Rr0Qq1Pp3Oo5Nn')",
        "sk-ant-api03-Xy7Zq9Wv2Uu4Tt6Ss8Rr0Qq1Pp3Oo5Nn",
    ),
    (
        "github-pat",
        "git clone https://ghp_" + "1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R@github.com/o/r",
        "ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R",
    ),
    (
        "google-api",
        "const key = 'AIza" + "SyD4f8Hk2Lm6Np0Qr4St8Uv2Wx6Yz0Ab1C';",
        "AIzaSyD4f8Hk2Lm6Np0Qr4St8Uv2Wx6Yz0Ab1C",
    ),
    ("stripe", "stripe.api_key = 'sk_live_" + "51H8aBcDeFgHiJkLmNoPqRsTu'", "sk_live_51H8aBcDeFgHiJkLmNoPqRsTu"),
    ("gitlab", "GITLAB=glpat-" + "AbCdEfGh1234567890Xy", "glpat-AbCdEfGh1234567890Xy"),
    (
        "huggingface",
        "login(token='hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789')",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    ),
    (
        "npm",
        "//registry.npmjs.org/:_authToken=npm_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    ),
    (
        "sendgrid",
        "SENDGRID=SG." + "AbCdEfGhIjKlMnOpQrSt.UvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvW",
        "SG.AbCdEfGhIjKlMnOpQrSt.UvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvW",
    ),
    (
        "slack-bot",
        "token: xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    (
        "jwt",
        "Authorization: Bearer eyJ"
        + "hbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    (
        "rsa-private-key",
        "-----BEGIN RSA PRIVATE" + " KEY-----\nMIIEowIBAAKCAQEA7bq3Rk9Lm2Nx8Qp4Zt6Wv\nQUJDREVGR0gxMjM0NTY3ODkw\n"
        "-----END RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEA7bq3Rk9Lm2Nx8Qp4Zt6Wv",
    ),
    (
        "openssh-private-key",
        "-----BEGIN OPENSSH PRIVATE" + " KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
        "AAAAMwAAAAtzc2gtZWQyNTUxOQAAACBx7Qp9\n-----END OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
    ),
    (
        "pgp-private-key",
        "-----BEGIN PGP PRIVATE KEY" + " BLOCK-----\nVersion: GnuPG v2.0.22\n\nlQOYBF0aBcDeFgHiJkLmNoPqRsTuVwXyZ0123\n"
        "=Ab3d\n-----END PGP PRIVATE KEY BLOCK-----",
        "lQOYBF0aBcDeFgHiJkLmNoPqRsTuVwXyZ0123",
    ),
]

SECRETS = [secret for _, _, secret in CORPUS]
