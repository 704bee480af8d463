//! The dashboard's local users: names and argon2id password hashes in
//! `users.toml` in the data dir, managed by `stockwatch users add/remove`
//! and read by the server at each sign-in (a user removed cannot sign in
//! again; the file is never cached).

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The users file's name in the data dir.
pub const USERS_FILE: &str = "users.toml";
/// Shorter passwords are refused when a user is added.
pub const MIN_PASSWORD_CHARS: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct UsersFile {
    #[serde(default, rename = "user")]
    users: Vec<User>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct User {
    name: String,
    /// The PHC string: `$argon2id$v=19$m=…,t=…,p=…$salt$hash`.
    hash: String,
}

/// The users file of one data dir.
#[derive(Debug, Clone)]
pub struct Users {
    path: PathBuf,
}

impl Users {
    pub fn in_dir(data_dir: &Path) -> Users {
        Users {
            path: data_dir.join(USERS_FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn load(&self) -> Result<UsersFile, UsersError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(UsersFile::default()),
            Err(e) => return Err(self.read_error(e)),
        };
        toml::from_str(&text).map_err(|e| self.read_error(e))
    }

    fn read_error(&self, e: impl std::fmt::Display) -> UsersError {
        UsersError::Read {
            path: self.path.display().to_string(),
            reason: e.to_string(),
        }
    }

    /// Written whole beside the old one, then moved over it, readable by
    /// this user only (the hashes are not for everyone to try offline).
    fn save(&self, file: &UsersFile) -> Result<(), UsersError> {
        let error = |e: &dyn std::fmt::Display| UsersError::Write {
            path: self.path.display().to_string(),
            reason: e.to_string(),
        };
        let text = toml::to_string(file).map_err(|e| error(&e))?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| error(&e))?;
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| error(&e))?;
        std::io::Write::write_all(&mut temp, text.as_bytes()).map_err(|e| error(&e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o600)).map_err(|e| error(&e))?;
        }
        temp.persist(&self.path).map_err(|e| error(&e.error))?;
        Ok(())
    }

    /// Adds a user or sets a known user's password.
    pub fn add(&self, name: &str, password: &str) -> Result<bool, UsersError> {
        let name = stockwatch_core::app::text::checked(stockwatch_core::app::Field::Name, name)
            .map_err(|e| UsersError::Invalid(e.to_string()))?;
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(UsersError::Invalid(format!(
                "a password has at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        let hash = hash(password)?;
        let mut file = self.load()?;
        let known = match file.users.iter_mut().find(|u| u.name == name) {
            Some(user) => {
                user.hash = hash;
                true
            }
            None => {
                file.users.push(User { name, hash });
                false
            }
        };
        self.save(&file)?;
        Ok(!known)
    }

    /// Removes a user; `false` if there was none by that name.
    pub fn remove(&self, name: &str) -> Result<bool, UsersError> {
        let mut file = self.load()?;
        let before = file.users.len();
        file.users.retain(|u| u.name != name);
        if file.users.len() == before {
            return Ok(false);
        }
        self.save(&file)?;
        Ok(true)
    }

    pub fn names(&self) -> Result<Vec<String>, UsersError> {
        Ok(self.load()?.users.into_iter().map(|u| u.name).collect())
    }

    /// Whether `password` is `name`'s. Slow on purpose (argon2): run it
    /// off the async threads. An unknown name costs the same as a wrong
    /// password, so the time does not tell which names exist.
    pub fn verify(&self, name: &str, password: &str) -> Result<bool, UsersError> {
        let file = self.load()?;
        let user = file.users.iter().find(|u| u.name == name);
        let hash = user.map_or_else(dummy_hash, |u| u.hash.clone());
        let Ok(parsed) = PasswordHash::new(&hash) else {
            tracing::warn!(user = name, "a password hash in the users file cannot be read");
            return Ok(false);
        };
        let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(matches && user.is_some())
    }
}

fn hash(password: &str) -> Result<String, UsersError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| UsersError::Invalid(format!("cannot hash the password: {e}")))
}

/// A hash of no one's password, made once, to verify against for unknown names.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| hash("no one has this password").unwrap_or_default())
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_added_signs_in_with_the_password_only_and_not_after_removal() {
        let dir = tempfile::tempdir().unwrap();
        let users = Users::in_dir(dir.path());
        assert!(users.add("ana", "correct horse battery").unwrap());
        assert!(users.verify("ana", "correct horse battery").unwrap());
        assert!(!users.verify("ana", "correct horse batterY").unwrap());
        assert!(!users.verify("bo", "correct horse battery").unwrap());
        let text = std::fs::read_to_string(users.path()).unwrap();
        assert!(text.contains("$argon2id$") && !text.contains("horse"), "{text}");
        assert!(users.remove("ana").unwrap());
        assert!(!users.verify("ana", "correct horse battery").unwrap());
        assert!(!users.remove("ana").unwrap());
    }

    #[test]
    fn short_passwords_and_names_that_are_no_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let users = Users::in_dir(dir.path());
        assert!(
            users
                .add("ana", "short")
                .unwrap_err()
                .to_string()
                .contains("at least 10")
        );
        assert!(users.add("a\u{1b}[2J", "long enough pass").is_err());
        assert!(users.names().unwrap().is_empty());
    }
}
