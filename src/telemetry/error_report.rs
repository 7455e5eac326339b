//! How an error reaches the operator: the message and each cause once.
//!
//! Errors here carry their cause twice on purpose: in their message (for
//! logs that print one level) and as their `source()` (for callers that
//! walk the chain). Printing the whole chain would then repeat the cause
//! ("cannot read: No such file or directory (os error 2): No such file or
//! directory (os error 2)"), so a cause already said is left out.

/// The error and its causes, separated by ": ", each said once.
pub fn error_report(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if text.is_empty() {
            text = part;
        } else if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{path}: cannot read: {source}")]
    struct ReadError {
        path: String,
        #[source]
        source: std::io::Error,
    }

    fn not_found() -> std::io::Error {
        std::io::Error::from(std::io::ErrorKind::NotFound)
    }

    #[test]
    fn a_cause_in_the_message_is_said_once() {
        let e = anyhow::Error::new(ReadError {
            path: "config/schedules.toml".into(),
            source: not_found(),
        });
        let report = error_report(&e);
        assert_eq!(report, format!("config/schedules.toml: cannot read: {}", not_found()));
        assert_eq!(report.matches("config/schedules.toml").count(), 1);
    }

    #[test]
    fn context_and_a_cause_not_in_it_are_both_said() {
        let e = anyhow::Error::new(not_found()).context("cannot open the demo database");
        assert_eq!(
            error_report(&e),
            format!("cannot open the demo database: {}", not_found())
        );
    }
}
