//! Extra trust anchors: `email.ca_file` and a gateway's `ca_file`, PEM
//! certificates of a private CA (or a self-signed relay) added to the
//! system's roots, never replacing them (`SSL_CERT_FILE` would).

use std::path::Path;

/// The PEM text of `path`, checked to hold at least one certificate; the
/// error names the file and what is wrong with it.
pub(crate) fn read_ca_file(key: &str, path: &Path) -> Result<Vec<u8>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("{key} {}: cannot read it: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&pem);
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(format!(
            "{key} {}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_non_pem_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("ca.pem");
        let error = read_ca_file("email.ca_file", &missing).unwrap_err();
        assert!(
            error.starts_with("email.ca_file ") && error.contains("ca.pem: cannot read it"),
            "{error}"
        );
        std::fs::write(&missing, "bukan sertifikat").unwrap();
        let error = read_ca_file("email.ca_file", &missing).unwrap_err();
        assert!(error.contains("no PEM certificate"), "{error}");
    }
}
