//! The identity collections of the shared database.
//!
//! - `pendingorganizations`: signups awaiting email verification. Ids of the future
//!   organization and admin are chosen at signup, so a verification that is retried after
//!   a crash creates the same records.
//! - `organizations`, `users`: the tenants and everyone who can log in (email unique).
//! - `refresh_tokens`: hashed refresh tokens, in families; each is used once.
//! - `invitations`: users invited by an admin, created when they accept.
//! - `password_resets`: hashed single-use reset tokens.

use bson::{Document, doc};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::options::IndexOptions;
use mongodb::{Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};

use crate::codes::ErrorCode;
use crate::error::ApiError;

/// A signup awaiting verification.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingOrganization {
    /// Id of the pending signup.
    #[serde(rename = "_id")]
    pub id: String,
    /// The organization id it will get (its tenant id).
    pub organization_id: String,
    /// The admin user id it will get.
    pub admin_user_id: String,
    /// Organization name.
    pub organization_name: String,
    /// Admin's name.
    pub admin_name: String,
    /// Normalized email.
    pub email: String,
    /// Unused: the password is chosen at verification. Signups stored before that change
    /// carry the hash of the password given at signup, which is ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Keyed hash of the verification token.
    pub token_hash: String,
    /// When the token stops working.
    #[serde(with = "bson::serde_helpers::chrono_datetime_as_bson_datetime")]
    pub expires_at: DateTime<Utc>,
    /// When it was verified, once it was.
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    pub verified_at: Option<DateTime<Utc>>,
}

/// Someone who can log in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    /// User id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Their organization (tenant).
    pub organization_id: String,
    /// Normalized email (unique).
    pub email: String,
    /// Display name.
    pub name: String,
    /// admin, manager or cashier.
    pub role: events::Role,
    /// argon2 hash.
    pub password_hash: String,
    /// Whether they may log in and refresh.
    pub active: bool,
    /// The locations they may act at (written from their events); empty: every location.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<String>,
    /// When the account was created.
    #[serde(with = "bson::serde_helpers::chrono_datetime_as_bson_datetime")]
    pub created_at: DateTime<Utc>,
}

/// A refresh token, stored by the keyed hash of its value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshRecord {
    /// Keyed hash of the token.
    #[serde(rename = "_id")]
    pub hash: String,
    /// Tokens descending from one login share a family; reuse revokes it whole.
    pub family_id: String,
    /// The user.
    pub user_id: String,
    /// Their organization.
    pub organization_id: String,
    /// When it stops working.
    #[serde(with = "bson::serde_helpers::chrono_datetime_as_bson_datetime")]
    pub expires_at: DateTime<Utc>,
    /// When it was exchanged for a new one (it may be used once).
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    pub rotated_at: Option<DateTime<Utc>>,
    /// Revoked by logout, reuse or deactivation.
    pub revoked: bool,
}

/// An invitation to join an organization, awaiting its acceptance. The user is created
/// only when someone who reads the invited address accepts it, so an admin can neither
/// take nor reserve anyone's address.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invitation {
    /// Id of the invitation.
    #[serde(rename = "_id")]
    pub id: String,
    /// The user id the invitee will get (fixed now, so the admin's answer can name it).
    pub user_id: String,
    /// The organization.
    pub organization_id: String,
    /// Normalized email invited.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role the user will have.
    pub role: events::Role,
    /// Keyed hash of the invitation token.
    pub token_hash: String,
    /// When the token stops working.
    #[serde(with = "bson::serde_helpers::chrono_datetime_as_bson_datetime")]
    pub expires_at: DateTime<Utc>,
    /// When it was accepted, once it was.
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    pub accepted_at: Option<DateTime<Utc>>,
}

/// A password-reset token, stored by the keyed hash of its value: single use, short-lived.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordReset {
    /// Keyed hash of the token.
    #[serde(rename = "_id")]
    pub hash: String,
    /// The user.
    pub user_id: String,
    /// Their organization.
    pub organization_id: String,
    /// When it stops working.
    #[serde(with = "bson::serde_helpers::chrono_datetime_as_bson_datetime")]
    pub expires_at: DateTime<Utc>,
    /// When it was used, once it was.
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    pub used_at: Option<DateTime<Utc>>,
}

/// The identity collections.
#[derive(Clone)]
pub struct IdentityStore {
    db: Database,
}

/// Whether a MongoDB error is a duplicate key.
pub fn is_duplicate(err: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match &*err.kind {
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == 11000,
        ErrorKind::InsertMany(e) => e
            .write_errors
            .as_ref()
            .is_some_and(|errors| errors.iter().any(|e| e.code == 11000)),
        _ => false,
    }
}

impl IdentityStore {
    /// The identity collections of `db` (the shared database).
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The shared database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Creates the indexes: unique emails, expiry of old signups and refresh tokens.
    pub async fn ensure_indexes(&self) -> mongodb::error::Result<()> {
        let unique = |keys: Document, name: &str| {
            IndexModel::builder()
                .keys(keys)
                .options(IndexOptions::builder().name(name.to_owned()).unique(true).build())
                .build()
        };
        let expire = |name: &str, after: std::time::Duration| {
            IndexModel::builder()
                .keys(doc! {"expires_at": 1})
                .options(
                    IndexOptions::builder()
                        .name(name.to_owned())
                        .expire_after(after)
                        .build(),
                )
                .build()
        };
        self.users()
            .create_indexes([unique(doc! {"email": 1}, "email")])
            .await?;
        self.users()
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"organization_id": 1, "email": 1})
                    .build(),
            )
            .await?;
        self.pending()
            .create_indexes([
                unique(doc! {"email": 1}, "email"),
                unique(doc! {"token_hash": 1}, "token"),
            ])
            .await?;
        self.pending()
            .create_index(expire("expiry", std::time::Duration::from_secs(7 * 24 * 3600)))
            .await?;
        self.refresh()
            .create_index(IndexModel::builder().keys(doc! {"family_id": 1}).build())
            .await?;
        self.refresh()
            .create_index(IndexModel::builder().keys(doc! {"user_id": 1}).build())
            .await?;
        self.refresh()
            .create_index(expire("expiry", std::time::Duration::ZERO))
            .await?;
        self.invitations()
            .create_indexes([
                unique(doc! {"organization_id": 1, "email": 1}, "organization_email"),
                unique(doc! {"token_hash": 1}, "token"),
            ])
            .await?;
        self.invitations()
            .create_index(expire("expiry", std::time::Duration::from_secs(7 * 24 * 3600)))
            .await?;
        self.resets()
            .create_index(expire("expiry", std::time::Duration::from_secs(24 * 3600)))
            .await?;
        Ok(())
    }

    /// `pendingorganizations`.
    pub fn pending(&self) -> Collection<PendingOrganization> {
        self.db.collection("pendingorganizations")
    }

    /// `users`.
    pub fn users(&self) -> Collection<UserRecord> {
        self.db.collection("users")
    }

    /// `refresh_tokens`.
    pub fn refresh(&self) -> Collection<RefreshRecord> {
        self.db.collection("refresh_tokens")
    }

    /// `invitations`.
    pub fn invitations(&self) -> Collection<Invitation> {
        self.db.collection("invitations")
    }

    /// `password_resets`.
    pub fn resets(&self) -> Collection<PasswordReset> {
        self.db.collection("password_resets")
    }

    /// `organizations`.
    pub fn organizations(&self) -> Collection<Document> {
        self.db.collection("organizations")
    }

    /// The user with this normalized email.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, ApiError> {
        self.users()
            .find_one(doc! {"email": email})
            .await
            .map_err(ApiError::from)
    }

    /// The user with this id in this organization.
    pub async fn user(&self, organization_id: &str, user_id: &str) -> Result<Option<UserRecord>, ApiError> {
        self.users()
            .find_one(doc! {"_id": user_id, "organization_id": organization_id})
            .await
            .map_err(ApiError::from)
    }

    /// The user with this id in this organization, or 404.
    pub async fn existing_user(&self, organization_id: &str, user_id: &str) -> Result<UserRecord, ApiError> {
        self.user(organization_id, user_id)
            .await?
            .ok_or_else(|| ApiError::NotFound {
                resource: "user",
                id: user_id.to_owned(),
            })
    }

    /// Sets fields of one user of this organization.
    pub async fn set_user(&self, organization_id: &str, user_id: &str, set: Document) -> Result<(), ApiError> {
        self.users()
            .update_one(
                doc! {"_id": user_id, "organization_id": organization_id},
                doc! {"$set": set},
            )
            .await?;
        Ok(())
    }

    /// The users of an organization, by email.
    pub async fn users_of(&self, organization_id: &str) -> Result<Vec<UserRecord>, ApiError> {
        self.users()
            .find(doc! {"organization_id": organization_id})
            .sort(doc! {"email": 1})
            .await?
            .try_collect()
            .await
            .map_err(ApiError::from)
    }

    /// Inserts a user; `Ok(false)` when the id exists already (a retried creation).
    /// Another user with the same email is 409 `email_taken`.
    pub async fn insert_user(&self, user: &UserRecord) -> Result<bool, ApiError> {
        match self.users().insert_one(user).await {
            Ok(_) => Ok(true),
            Err(err) if is_duplicate(&err) => match self.users().find_one(doc! {"_id": &user.id}).await? {
                Some(existing) if existing.email == user.email => Ok(false),
                _ => Err(ApiError::StateConflict {
                    code: ErrorCode::EmailTaken,
                    message: "an account with this email exists".to_owned(),
                }),
            },
            Err(err) => Err(ApiError::from(err)),
        }
    }

    /// Makes sure `tenant` exists and has a user `user_id`, creating them (the user active,
    /// with `role`) if needed; an existing user is left as it is: what a token minted straight from the signing key (the `token`
    /// subcommand, test and benchmark tools) needs to be accepted, now that the API checks
    /// that a token's tenant and user exist. The user gets no password (nobody can log in
    /// as it) and the address `<user>@<tenant>.invalid`. A user id taken in another tenant
    /// is an error.
    pub async fn provision(&self, tenant: &str, user_id: &str, role: events::Role) -> Result<(), ApiError> {
        let now = bson::DateTime::now();
        self.organizations()
            .update_one(
                doc! {"_id": tenant},
                doc! {"$setOnInsert": {"name": tenant, "created_at": now}},
            )
            .upsert(true)
            .await
            .or_else(|err| {
                if is_duplicate(&err) {
                    Ok(Default::default())
                } else {
                    Err(err)
                }
            })?;
        let upserted = self
            .db
            .collection::<Document>("users")
            .update_one(
                doc! {"_id": user_id, "organization_id": tenant},
                doc! {"$setOnInsert": {"role": role.as_str(), "active": true,
                "email": format!("{user_id}@{tenant}.invalid"), "name": user_id,
                "password_hash": "", "created_at": now}},
            )
            .upsert(true)
            .await;
        match upserted {
            Ok(_) => Ok(()),
            Err(err) if is_duplicate(&err) => match self.user(tenant, user_id).await? {
                // A concurrent provisioning of the same user won.
                Some(_) => Ok(()),
                None => Err(ApiError::StateConflict {
                    code: ErrorCode::UserExists,
                    message: format!("user id {user_id} belongs to another tenant"),
                }),
            },
            Err(err) => Err(err.into()),
        }
    }

    /// Revokes every refresh token of a family.
    pub async fn revoke_family(&self, family_id: &str) -> Result<(), ApiError> {
        self.refresh()
            .update_many(doc! {"family_id": family_id}, doc! {"$set": {"revoked": true}})
            .await?;
        Ok(())
    }

    /// Revokes every refresh token of a user.
    pub async fn revoke_user(&self, user_id: &str) -> Result<(), ApiError> {
        self.refresh()
            .update_many(doc! {"user_id": user_id}, doc! {"$set": {"revoked": true}})
            .await?;
        Ok(())
    }
}
