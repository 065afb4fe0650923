//! ID token verification: RS256 only, the key by `kid` from the [`KeyStore`], `iss`, `aud`,
//! `exp`/`iat`/`nbf` with leeway, and no token valid for more than 24 hours (as Google's own
//! libraries check). Verified tokens are cached by their SHA-256, until their `exp` and for at
//! most 5 minutes, so a new request with a known token costs a hash and a cache read, not a
//! signature check (`AccessControl` adds a per-thread memory of the last token in front).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use moka::Expiry;
use moka::sync::Cache;
use serde::{Deserialize, Deserializer};

use super::keys::{KeyError, KeyStore};

/// Google's two spellings of its issuer.
pub const GOOGLE_ISSUERS: [&str; 2] = ["accounts.google.com", "https://accounts.google.com"];
/// Tokens expiring further ahead than this are refused.
const LONGEST_LIFETIME: u64 = 24 * 3600;
/// The longest a verified token is remembered.
const CACHE_FOR: Duration = Duration::from_secs(300);
/// Verified tokens remembered at once.
const CACHE_CAPACITY: u64 = 10_000;

/// Who a verified token says the caller is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// `sub`: the account's stable identifier.
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// `hd`: the Google Workspace domain of the account.
    pub hosted_domain: Option<String>,
}

/// Why a token is not valid. [`TokenError::reason`] is the metric label.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT: {0}")]
    Malformed(String),
    #[error("the token is signed with {0}; only RS256 is accepted")]
    Algorithm(String),
    #[error("{0}")]
    UnknownKey(String),
    #[error("the token's signature is not valid")]
    Signature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token expires more than 24 hours from now")]
    TooLongLived,
    #[error("the token's issuer is not accepted")]
    Issuer,
    #[error("the token's audience is not accepted")]
    Audience,
    #[error("the issuer's signing keys are unavailable")]
    KeysUnavailable,
}

impl TokenError {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::Algorithm(_) => "algorithm",
            Self::UnknownKey(_) => "unknown_key",
            Self::Signature => "signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::TooLongLived => "lifetime",
            Self::Issuer => "issuer",
            Self::Audience => "audience",
            Self::KeysUnavailable => "keys_unavailable",
        }
    }
}

/// What a token must satisfy.
#[derive(Clone, Debug)]
pub struct TokenRules {
    pub audiences: Vec<String>,
    pub issuers: Vec<String>,
    pub leeway: Duration,
}

/// The SHA-256 of a token: the cache key.
pub type TokenDigest = [u8; 32];

pub fn digest(token: &str) -> TokenDigest {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    digest
        .as_ref()
        .try_into()
        .expect("SHA-256 digests are 32 bytes")
}

/// A verified token and how long it may stay cached.
#[derive(Clone)]
struct Verified {
    caller: Arc<Caller>,
    cache_for: Duration,
    /// Unix time at which the entry expires.
    valid_until: u64,
}

struct UntilExpiry;

impl Expiry<TokenDigest, Verified> for UntilExpiry {
    fn expire_after_create(
        &self,
        _key: &TokenDigest,
        value: &Verified,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.cache_for)
    }
}

/// Verifies tokens against the rules and the issuer's keys; remembers the ones that passed.
pub struct Verifier {
    keys: KeyStore,
    validation: Validation,
    leeway: u64,
    verified: Cache<TokenDigest, Verified>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.keys)
            .field("validation", &self.validation)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// The issuer's keys tokens are checked with.
    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    pub fn new(keys: KeyStore, rules: &TokenRules) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&rules.audiences);
        validation.set_issuer(&rules.issuers);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = rules.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        Self {
            keys,
            validation,
            leeway: rules.leeway.as_secs(),
            verified: Cache::builder()
                .max_capacity(CACHE_CAPACITY)
                .expire_after(UntilExpiry)
                .build(),
        }
    }

    /// The caller of a token verified recently, without any verification work, and the Unix
    /// time until which that holds.
    pub fn cached(&self, digest: &TokenDigest) -> Option<(Arc<Caller>, u64)> {
        self.verified.get(digest).map(|v| (v.caller, v.valid_until))
    }

    /// Verifies a token and remembers it.
    pub async fn verify(
        &self,
        token: &str,
        digest: TokenDigest,
    ) -> Result<Arc<Caller>, TokenError> {
        let header = parse_header(token)?;
        if header.alg != "RS256" {
            return Err(TokenError::Algorithm(header.alg));
        }
        let kid = header
            .kid
            .ok_or_else(|| TokenError::Malformed("the header has no kid".into()))?;
        let key = self.keys.key(&kid).await.map_err(|e| match e {
            KeyError::Unavailable => TokenError::KeysUnavailable,
            KeyError::UnknownKid(_) => TokenError::UnknownKey(printable_kid(&kid)),
        })?;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &self.validation)
            .map_err(|e| match e.into_kind() {
                ErrorKind::InvalidSignature => TokenError::Signature,
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                ErrorKind::InvalidIssuer => TokenError::Issuer,
                ErrorKind::InvalidAudience => TokenError::Audience,
                ErrorKind::InvalidAlgorithm => TokenError::Algorithm(header.alg.clone()),
                ErrorKind::MissingRequiredClaim(claim) => {
                    TokenError::Malformed(format!("the token has no '{claim}' claim"))
                }
                // Said in general terms: the details could quote the token.
                ErrorKind::Base64(_) => TokenError::Malformed("a part is not base64url".into()),
                ErrorKind::Json(_) | ErrorKind::Utf8(_) | ErrorKind::InvalidClaimFormat(_) => {
                    TokenError::Malformed("the claims do not have the expected types".into())
                }
                _ => TokenError::Malformed("the token cannot be decoded".into()),
            })?
            .claims;
        let now = unix_now();
        let Some(iat) = claims.iat else {
            return Err(TokenError::Malformed("the token has no 'iat' claim".into()));
        };
        if iat > now + self.leeway {
            return Err(TokenError::NotYetValid);
        }
        if claims.exp > now + LONGEST_LIFETIME + self.leeway {
            return Err(TokenError::TooLongLived);
        }
        let caller = Arc::new(Caller {
            subject: claims.sub.unwrap_or_default(),
            email: claims.email,
            email_verified: claims.email_verified,
            hosted_domain: claims.hd,
        });
        let cache_for = Duration::from_secs(claims.exp.saturating_sub(now)).min(CACHE_FOR);
        if !cache_for.is_zero() {
            self.verified.insert(
                digest,
                Verified {
                    caller: caller.clone(),
                    cache_for,
                    valid_until: now + cache_for.as_secs(),
                },
            );
        }
        Ok(caller)
    }
}

/// The `kid` for messages: quoted when it is short and plain, else not repeated.
fn printable_kid(kid: &str) -> String {
    let plain = kid.len() <= 64
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if plain {
        format!("the issuer has no signing key '{kid}'")
    } else {
        "the issuer has no signing key with the token's kid".to_owned()
    }
}

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// The JOSE header, read here rather than by `jsonwebtoken` so that `alg: none` or an unknown
/// algorithm is reported as such, not as a parse error.
fn parse_header(token: &str) -> Result<Header, TokenError> {
    let segment = token
        .split('.')
        .next()
        .filter(|_| token.split('.').count() == 3)
        .ok_or_else(|| TokenError::Malformed("expected three dot-separated parts".into()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenError::Malformed("the header is not base64url".into()))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| TokenError::Malformed("the header is not a JOSE header".into()))
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    exp: u64,
    iat: Option<u64>,
    email: Option<String>,
    #[serde(default, deserialize_with = "boolean")]
    email_verified: bool,
    hd: Option<String>,
}

/// `true` or `"true"` (some issuers send the string).
fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    Ok(match Flag::deserialize(deserializer)? {
        Flag::Bool(b) => b,
        Flag::Text(s) => s == "true",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_name_their_algorithm() {
        let none = format!("{}.e30.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#));
        assert_eq!(parse_header(&none).unwrap().alg, "none");
        assert!(matches!(parse_header("a.b"), Err(TokenError::Malformed(_))));
        assert!(matches!(
            parse_header("!!.b.c"),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn only_plain_kids_are_repeated_in_messages() {
        assert!(printable_kid("abc-123_x.y").contains("'abc-123_x.y'"));
        let hostile = printable_kid("a\"b\r\nx-injected: 1");
        assert!(!hostile.contains("injected"), "{hostile}");
        assert!(!printable_kid(&"k".repeat(65)).contains("kkkk"));
    }

    #[test]
    fn digests_differ_per_token() {
        assert_ne!(digest("a.b.c"), digest("a.b.d"));
        assert_eq!(digest("a.b.c"), digest("a.b.c"));
    }
}
