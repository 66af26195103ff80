//! The few bits of PEM and DER parsing the key loaders need (no general ASN.1).

use base64::Engine as _;

use super::KeyError;

/// OID 1.3.101.112 (Ed25519), DER-encoded content.
pub(crate) const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
/// OID 1.2.840.113549.1.1.1 (rsaEncryption), DER-encoded content.
pub(crate) const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;

/// One PEM block: its label and the decoded DER bytes.
pub(crate) struct PemBlock {
    pub(crate) label: String,
    pub(crate) der: Vec<u8>,
}

/// Decodes the first PEM block of `text`.
pub(crate) fn decode_pem(text: &str) -> Result<PemBlock, KeyError> {
    let mut lines = text.lines().map(str::trim);
    let label = loop {
        let line = lines
            .next()
            .ok_or_else(|| KeyError::Pem("no -----BEGIN ...----- line".into()))?;
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            let label = rest
                .strip_suffix("-----")
                .ok_or_else(|| KeyError::Pem("malformed BEGIN line".into()))?;
            break label.to_owned();
        }
    };
    let end = format!("-----END {label}-----");
    let mut b64 = String::new();
    let mut ended = false;
    for line in lines {
        if line == end {
            ended = true;
            break;
        }
        if line.contains(':') {
            // RFC 1421 headers ("Proc-Type: 4,ENCRYPTED") mean an encrypted legacy key.
            return Err(KeyError::Pem(
                "encrypted PEM keys are not supported; decrypt it first".into(),
            ));
        }
        b64.push_str(line);
    }
    if !ended {
        return Err(KeyError::Pem(format!("missing {end:?}")));
    }
    if label == "ENCRYPTED PRIVATE KEY" {
        return Err(KeyError::Pem(
            "encrypted PKCS#8 keys are not supported; decrypt it first".into(),
        ));
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|_| KeyError::Pem("invalid base64 in PEM body".into()))?;
    Ok(PemBlock { label, der })
}

/// Encodes DER bytes as a PEM block.
pub(crate) fn encode_pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn der_err(what: &str) -> KeyError {
    KeyError::Pem(format!("malformed DER: {what}"))
}

/// Reads one TLV from the front of `input`, returning (tag, contents).
fn read_tlv<'a>(input: &mut &'a [u8]) -> Result<(u8, &'a [u8]), KeyError> {
    let (&tag, rest) = input.split_first().ok_or_else(|| der_err("truncated"))?;
    let (&first, mut rest) = rest.split_first().ok_or_else(|| der_err("truncated"))?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 || rest.len() < n {
            return Err(der_err("bad length"));
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | usize::from(b);
        }
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return Err(der_err("truncated"));
    }
    let (contents, after) = rest.split_at(len);
    *input = after;
    Ok((tag, contents))
}

fn expect<'a>(input: &mut &'a [u8], tag: u8, what: &str) -> Result<&'a [u8], KeyError> {
    let (t, contents) = read_tlv(input)?;
    if t != tag {
        return Err(der_err(what));
    }
    Ok(contents)
}

fn strip_leading_zeros(mut b: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = b {
        b = rest;
    }
    b
}

/// The algorithm OID of a PKCS#8 `PrivateKeyInfo` / `OneAsymmetricKey`.
pub(crate) fn pkcs8_algorithm_oid(der: &[u8]) -> Result<&[u8], KeyError> {
    let mut input = der;
    let mut seq = expect(&mut input, TAG_SEQUENCE, "PKCS#8 is not a SEQUENCE")?;
    expect(&mut seq, TAG_INTEGER, "PKCS#8 version")?;
    let mut alg = expect(&mut seq, TAG_SEQUENCE, "PKCS#8 AlgorithmIdentifier")?;
    expect(&mut alg, TAG_OID, "PKCS#8 algorithm OID")
}

/// A parsed `SubjectPublicKeyInfo`: algorithm OID and the key bits.
pub(crate) fn parse_spki(der: &[u8]) -> Result<(&[u8], &[u8]), KeyError> {
    let mut input = der;
    let mut seq = expect(&mut input, TAG_SEQUENCE, "SPKI is not a SEQUENCE")?;
    let mut alg = expect(&mut seq, TAG_SEQUENCE, "SPKI AlgorithmIdentifier")?;
    let oid = expect(&mut alg, TAG_OID, "SPKI algorithm OID")?;
    let bits = expect(&mut seq, TAG_BIT_STRING, "SPKI subjectPublicKey")?;
    match bits.split_first() {
        Some((0, key)) => Ok((oid, key)),
        _ => Err(der_err("SPKI bit string has unused bits")),
    }
}

/// Parses a PKCS#1 `RSAPublicKey` into (n, e), big-endian without leading zeros.
pub(crate) fn parse_rsa_public_key(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), KeyError> {
    let mut input = der;
    let mut seq = expect(&mut input, TAG_SEQUENCE, "RSAPublicKey is not a SEQUENCE")?;
    let n = expect(&mut seq, TAG_INTEGER, "RSA modulus")?;
    let e = expect(&mut seq, TAG_INTEGER, "RSA exponent")?;
    Ok((
        strip_leading_zeros(n).to_vec(),
        strip_leading_zeros(e).to_vec(),
    ))
}
