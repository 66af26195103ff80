//! SuperTokens v5 access tokens: claims, signing, verification with a bounded cache.
