//! Publishing public keys as a JWKS, and fetching a remote JWKS for verify-only servers.
