-- API keys of third-party consumers. The secret is never stored: only its SHA-256 (the secret
-- is 256 random bits, so a fast hash cannot be brute-forced) and a public prefix to find it.
-- A name is reused after revocation (a new key for the same consumer), never while active.
CREATE TABLE api_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    prefix      text NOT NULL UNIQUE CHECK (prefix ~ '^[0-9a-f]{12}$'),
    secret_hash bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
    -- Requests per second and burst; NULL takes the serving instance's defaults.
    rate        integer CHECK (rate BETWEEN 1 AND 100000),
    burst       integer CHECK (burst BETWEEN 1 AND 100000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE UNIQUE INDEX api_keys_active_name_idx ON api_keys (name) WHERE revoked_at IS NULL;
