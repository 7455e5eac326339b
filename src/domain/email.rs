//! E-mail addresses, checked for the shape SMTP needs (not a full RFC 5322
//! parser: what matters is that the relay will accept the envelope).

use std::fmt;

use thiserror::Error;

/// Why a string is not an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EmailError {
    #[error("e-mail address is empty")]
    Empty,
    #[error("e-mail address is longer than 254 characters")]
    TooLong,
    #[error("e-mail address must contain exactly one @")]
    At,
    #[error("e-mail address has an empty or invalid part before the @")]
    Local,
    #[error("e-mail address domain {0:?} is not a valid domain")]
    Domain(String),
}

/// A plausible e-mail address, lower-cased in its domain part.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let mut parts = s.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(EmailError::At);
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        if !local_ok {
            return Err(EmailError::Local);
        }
        let domain = domain.to_ascii_lowercase();
        let labels_ok = domain.split('.').count() >= 2
            && domain.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !labels_ok {
            return Err(EmailError::Domain(domain));
        }
        Ok(Self(format!("{local}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used in logs: `s***@example.com`.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or((&self.0, ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_lowercases_domain() {
        let e = EmailAddress::parse(" Siti.Aminah@Gmail.COM ").unwrap();
        assert_eq!(e.as_str(), "Siti.Aminah@gmail.com");
        assert_eq!(e.masked(), "S***@gmail.com");
    }

    #[test]
    fn rejects_with_reasons() {
        assert_eq!(EmailAddress::parse(""), Err(EmailError::Empty));
        assert_eq!(EmailAddress::parse("a.b.example.com"), Err(EmailError::At));
        assert_eq!(EmailAddress::parse("a@b@c.id"), Err(EmailError::At));
        assert_eq!(EmailAddress::parse("@x.id"), Err(EmailError::Local));
        assert_eq!(EmailAddress::parse("budi santoso@x.id"), Err(EmailError::Local));
        assert!(matches!(
            EmailAddress::parse("budi@localhost"),
            Err(EmailError::Domain(_))
        ));
        assert!(matches!(EmailAddress::parse("budi@x..id"), Err(EmailError::Domain(_))));
    }
}
