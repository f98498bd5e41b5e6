//! API tokens (`ak_…`): scoped, stored hashed, shown once.

use serde::{Deserialize, Serialize};

use crate::scope::Scope;
use crate::validate::{self, ValidationError};
use crate::{TenantId, Timestamp, TokenId};

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    pub id: TokenId,
    #[serde(skip)]
    pub tenant_id: TenantId,
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
}

impl ApiToken {
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// What the store keeps of a new token.
#[derive(Clone, Debug)]
pub struct NewToken {
    pub name: String,
    pub prefix: String,
    pub hash: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<Timestamp>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenIn {
    pub name: String,
    pub scopes: Vec<String>,
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}

impl TokenIn {
    /// Checks the request and returns its scopes, parsed and deduplicated.
    pub fn validate(&self, now: Timestamp) -> Result<Vec<Scope>, ValidationError> {
        validate::required("name", &self.name, 100)?;
        parse_scopes(&self.scopes, now, self.expires_at)
    }
}

/// Parses scope names (`corpus:read`, `*`), rejecting unknown ones by name.
pub fn parse_scopes(
    raw: &[String],
    now: Timestamp,
    expires_at: Option<Timestamp>,
) -> Result<Vec<Scope>, ValidationError> {
    if raw.is_empty() {
        return Err(ValidationError::new("scopes", "scopes must name at least one scope"));
    }
    let mut scopes = Vec::with_capacity(raw.len());
    for name in raw {
        let scope = Scope::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
            ValidationError::new("scopes", format!("unknown scope `{name}`; known scopes: {}", known.join(", ")))
        })?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if expires_at.is_some_and(|at| at <= now) {
        return Err(ValidationError::new("expiresAt", "expiresAt must be in the future"));
    }
    Ok(scopes)
}

/// The response to token creation: the only time the secret is shown.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    pub id: TokenId,
    pub name: String,
    pub token: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}
