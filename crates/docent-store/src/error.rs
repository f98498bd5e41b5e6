//! Storage errors, classified from sqlx's backend-neutral error kinds and, for SQLite's
//! group-commit thread, rusqlite's result codes (never from message text).

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    #[error("conflict on {what}")]
    Conflict { what: String },
    /// A reference the caller sent does not hold (e.g. a segment of another tenant).
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("bad database configuration: {0}")]
    Config(String),
    #[error("database error")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StorageError {
    pub(crate) fn conflict(what: &str) -> Self {
        Self::Conflict { what: what.to_owned() }
    }

    pub(crate) fn corrupt(what: String) -> Self {
        Self::Other(what.into())
    }
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StorageError::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => StorageError::Unavailable(e),
            sqlx::Error::Database(db) => match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    StorageError::Conflict { what: db.constraint().unwrap_or("a unique value").to_owned() }
                }
                _ => StorageError::Other(Box::new(e)),
            },
            _ => StorageError::Other(Box::new(e)),
        }
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error() {
            Some(failure)
                if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                StorageError::conflict("a unique value")
            }
            _ => StorageError::Other(Box::new(e)),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StorageError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StorageError::Other(Box::new(e))
    }
}
