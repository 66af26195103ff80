//! Signing and verification keys (Ed25519, RS256, HS256), loaded from PEM or JWK, and key sets.
