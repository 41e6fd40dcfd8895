"""Names that hold an account's, an organisation's, a workspace's, a project's or a tenant's identifier: masked as
secrets are (the same id gets the same fingerprint wherever it is), so that a capture says whose it is to nobody
but still groups by it."""

# Normalised names (lowercase, letters and digits only) that end in these hold such an identifier: `account_id`,
# `chatgpt-account-id`, `anthropic-organization-id`, `orgId`, `workspace_uuid`, `project_id`, `project`.
IDENTIFIER_SUFFIXES = (
    "accountid",
    "accountuuid",
    "organizationid",
    "organisationid",
    "organizationuuid",
    "organisationuuid",
    "orgid",
    "orguuid",
    "workspaceid",
    "workspaceuuid",
    "projectid",
    "tenantid",
    "project",  # (Code Assist's `project` and `cloudaicompanionProject`, Vertex's: a Cloud project's id)
)
# Objects that stand for an account, an organisation…, or lists of them (`{"accounts": [{"id": …}]}`, Claude's
# `{"organization": {"uuid": …}}`): their own `id` or `uuid` is its identifier.
OWNERS = frozenset(
    {
        "account",
        "accounts",
        "organization",
        "organizations",
        "organisation",
        "organisations",
        "org",
        "orgs",
        "workspace",
        "workspaces",
        "tenant",
        "tenants",
        "cloudaicompanionproject",
    }
)
OWN_IDS = frozenset({"id", "uuid"})
# What each of these names holds (lowercase), for the scans that look for a name before parsing.
STEMS = ("account", "org", "workspace", "project", "tenant")
# The same in raw text, found ignoring case before a line is parsed (`org` alone is in too many words).
TEXT_PROBES = ("account", "organi", "org_", "orgid", "orguuid", 'org"', 'orgs"', "workspace", "project", "tenant")
