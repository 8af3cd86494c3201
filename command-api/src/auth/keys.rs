//! Verification keys, chosen by the token's `kid`, each bound to exactly one algorithm.
//!
//! Binding a key to its algorithm is what defeats key confusion: an HMAC secret never
//! verifies an RS256 token and an RSA public key is never used as an HMAC secret, whatever
//! the token's header claims. `alg: none` is not an algorithm jsonwebtoken accepts at all.

use std::collections::HashMap;
use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;

use crate::auth::claims::Claims;
use crate::auth::verified::VerifiedTokens;
use crate::config::Config;

/// A key configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A `kid=value` pair is malformed.
    #[error("malformed key entry {0:?}: expected kid=value")]
    Malformed(String),
    /// Two keys share a kid.
    #[error("key id {0:?} is configured twice")]
    DuplicateKid(String),
    /// An HMAC secret is too short to be safe.
    #[error("the secret of key {0:?} is shorter than 32 bytes")]
    WeakSecret(String),
    /// A public key file cannot be read or parsed.
    #[error("public key {kid:?} from {path}: {message}")]
    PublicKey {
        /// Key id.
        kid: String,
        /// File.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// Why a token was refused (logged, never returned to the client).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The header could not be read (this includes `alg: none`).
    #[error("unreadable token header: {0}")]
    Header(jsonwebtoken::errors::Error),
    /// No key has the token's kid.
    #[error("unknown key id {0:?}")]
    UnknownKid(String),
    /// The token's algorithm is not the key's.
    #[error("algorithm {token:?} does not match key {kid:?} ({key:?})")]
    AlgorithmMismatch {
        /// Key id.
        kid: String,
        /// Algorithm in the token header.
        token: Algorithm,
        /// The key's algorithm.
        key: Algorithm,
    },
    /// Signature, expiry, issuer, audience or claim shape failed.
    #[error("token rejected: {0}")]
    Invalid(jsonwebtoken::errors::Error),
    /// No `iat`, an `iat` in the future, or a lifetime (`exp - iat`) longer than access
    /// tokens are issued for.
    #[error("token lifetime refused: {0}")]
    Lifetime(&'static str),
}

struct VerificationKey {
    key: DecodingKey,
    validation: Validation,
}

/// The keys tokens are verified with.
pub struct JwtKeys {
    keys: HashMap<String, VerificationKey>,
    default_kid: String,
    leeway: u64,
    /// Longest lifetime (`exp - iat`) accepted: the access-token lifetime.
    max_lifetime: u64,
    verified: VerifiedTokens,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kids: Vec<_> = self.keys.keys().collect();
        kids.sort();
        f.debug_struct("JwtKeys")
            .field("kids", &kids)
            .field("default_kid", &self.default_kid)
            .finish()
    }
}

impl JwtKeys {
    /// Shortest HMAC secret accepted (HS256 wants at least 256 bits).
    pub const MIN_SECRET_LEN: usize = 32;

    /// Builds the key set from the configuration.
    pub fn from_config(config: &Config) -> Result<Self, KeyError> {
        let mut keys = Self {
            keys: HashMap::new(),
            default_kid: config.jwt_default_kid.clone(),
            leeway: config.jwt_leeway_secs,
            max_lifetime: config.access_token_ttl_secs,
            verified: VerifiedTokens::default(),
        };
        let validation = |alg| {
            let mut validation = Validation::new(alg);
            validation.leeway = config.jwt_leeway_secs;
            validation.validate_nbf = true;
            validation.set_issuer(&[&config.jwt_issuer]);
            validation.set_audience(&[&config.jwt_audience]);
            validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
            validation
        };
        keys.add_secret(
            &config.jwt_default_kid,
            config.jwt_secret.expose_secret(),
            validation(Algorithm::HS256),
        )?;
        if let Some(extra) = &config.jwt_extra_secrets {
            for entry in extra
                .expose_secret()
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
            {
                let (kid, secret) = entry
                    .split_once('=')
                    .ok_or_else(|| KeyError::Malformed(redact(entry)))?;
                keys.add_secret(kid.trim(), secret.trim(), validation(Algorithm::HS256))?;
            }
        }
        for entry in config
            .jwt_public_keys
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
        {
            let (kid, path) = entry
                .split_once('=')
                .ok_or_else(|| KeyError::Malformed(entry.to_owned()))?;
            let (key, alg) = read_public_key(kid, Path::new(path.trim()))?;
            keys.insert(
                kid.trim(),
                VerificationKey {
                    key,
                    validation: validation(alg),
                },
            )?;
        }
        Ok(keys)
    }

    fn add_secret(&mut self, kid: &str, secret: &str, validation: Validation) -> Result<(), KeyError> {
        if secret.len() < Self::MIN_SECRET_LEN {
            return Err(KeyError::WeakSecret(kid.to_owned()));
        }
        self.insert(
            kid,
            VerificationKey {
                key: DecodingKey::from_secret(secret.as_bytes()),
                validation,
            },
        )
    }

    fn insert(&mut self, kid: &str, key: VerificationKey) -> Result<(), KeyError> {
        if kid.is_empty() {
            return Err(KeyError::Malformed("(empty kid)".to_owned()));
        }
        if self.keys.insert(kid.to_owned(), key).is_some() {
            return Err(KeyError::DuplicateKid(kid.to_owned()));
        }
        Ok(())
    }

    /// Verifies `token` and returns its claims. A token whose exact text verified before
    /// and has not expired since is not verified again (see [`super::verified`]).
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if let Some(claims) = self.verified.get(token, now, self.leeway) {
            return Ok(claims);
        }
        let claims = self.verify_uncached(token)?;
        self.verified.put(token, &claims);
        Ok(claims)
    }

    /// Full verification, remembered or not: header, key, algorithm, signature and claims.
    pub fn verify_uncached(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(TokenError::Header)?;
        let kid = header.kid.as_deref().unwrap_or(&self.default_kid);
        let entry = self
            .keys
            .get(kid)
            .ok_or_else(|| TokenError::UnknownKid(kid.to_owned()))?;
        let key_alg = entry.validation.algorithms[0];
        if header.alg != key_alg {
            return Err(TokenError::AlgorithmMismatch {
                kid: kid.to_owned(),
                token: header.alg,
                key: key_alg,
            });
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &entry.key, &entry.validation)
            .map(|data| data.claims)
            .map_err(TokenError::Invalid)?;
        self.check_lifetime(&claims)?;
        Ok(claims)
    }

    /// A token must say when it was issued, not in the future (beyond the leeway), and
    /// live no longer than access tokens are issued for (plus the leeway): a token signed
    /// to last until 2500 is refused even though its signature is good.
    fn check_lifetime(&self, claims: &Claims) -> Result<(), TokenError> {
        let now = jsonwebtoken::get_current_timestamp();
        let issued = claims.iat.ok_or(TokenError::Lifetime("no iat"))?;
        if issued > now.saturating_add(self.leeway) {
            return Err(TokenError::Lifetime("iat in the future"));
        }
        if claims.exp.saturating_sub(issued) > self.max_lifetime.saturating_add(self.leeway) {
            return Err(TokenError::Lifetime("exp - iat exceeds the access-token lifetime"));
        }
        Ok(())
    }
}

fn redact(entry: &str) -> String {
    match entry.split_once('=') {
        Some((kid, _)) => format!("{kid}=…"),
        None => "…".to_owned(),
    }
}

fn read_public_key(kid: &str, path: &Path) -> Result<(DecodingKey, Algorithm), KeyError> {
    let error = |message: String| KeyError::PublicKey {
        kid: kid.to_owned(),
        path: path.display().to_string(),
        message,
    };
    let pem = std::fs::read(path).map_err(|e| error(e.to_string()))?;
    if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
        return Ok((key, Algorithm::RS256));
    }
    if let Ok(key) = DecodingKey::from_ed_pem(&pem) {
        return Ok((key, Algorithm::EdDSA));
    }
    Err(error("neither an RSA nor an Ed25519 public key in PEM form".to_owned()))
}
