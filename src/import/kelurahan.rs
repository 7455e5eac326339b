//! Importing a kelurahan/desa list in the Kemendagri CSV format
//! (`kode,nama,kecamatan,kabupaten_kota,provinsi`, see [`crate::wilayah`]),
//! upserted by code. The list is reference data: any bad row refuses the
//! whole file.

use std::path::Path;

use super::reader::read_text;
use super::{ImportCounts, ImportError, ImportReport, RowError};
use crate::store::Participants;
use crate::wilayah::{WilayahError, parse_kelurahan_csv};

/// Imports the kelurahan list in `path`, in one transaction.
pub async fn import_kelurahan(store: &dyn Participants, path: &Path) -> Result<ImportReport, ImportError> {
    let text = read_text(path, None).await?;
    let rows = parse_kelurahan_csv(&text).map_err(|errors| refusal(path, errors))?;
    let counts = store.upsert_kelurahan(&rows).await?;
    tracing::info!(
        file = %path.display(),
        rows = rows.len(),
        inserted = counts.inserted,
        updated = counts.updated,
        unchanged = counts.unchanged,
        "kelurahan imported"
    );
    Ok(ImportReport {
        rows: rows.len(),
        counts: ImportCounts::Kelurahan(counts),
        rejected: Vec::new(),
        rejected_file: None,
        warnings: Vec::new(),
    })
}

/// The parser's errors as an import error: a bad header or an empty file is
/// a structural problem, bad rows are listed as row errors.
fn refusal(path: &Path, errors: Vec<WilayahError>) -> ImportError {
    let malformed = |reason: String| ImportError::Malformed {
        path: path.to_path_buf(),
        line: 1,
        reason,
    };
    let mut rows = Vec::new();
    for error in errors {
        match error {
            WilayahError::Row { line, reason } => rows.push(row_error(line, reason)),
            other @ (WilayahError::Header(_) | WilayahError::Empty) => {
                let text = other.to_string();
                return malformed(text.strip_prefix("line 1: ").unwrap_or(&text).to_string());
            }
        }
    }
    ImportError::Invalid {
        path: path.to_path_buf(),
        errors: rows,
    }
}

/// Splits the parser's "column kode: …" prefix into the column.
fn row_error(line: usize, reason: String) -> RowError {
    if let Some(rest) = reason.strip_prefix("column kode: ") {
        return RowError::new(line, Some("kode"), rest);
    }
    if reason == "column nama is empty" {
        return RowError::new(line, Some("nama"), "missing required value");
    }
    RowError::new(line, None, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_errors_become_import_errors() {
        let err = refusal(
            Path::new("k.csv"),
            vec![
                WilayahError::Row {
                    line: 3,
                    reason: "column kode: kelurahan code \"1\" must be PP.KK.CC.DDDD or 10 digits".into(),
                },
                WilayahError::Row {
                    line: 4,
                    reason: "column nama is empty".into(),
                },
            ],
        );
        let ImportError::Invalid { errors, .. } = err else {
            panic!("{err}")
        };
        assert_eq!(errors[0].column.as_deref(), Some("kode"));
        assert_eq!(errors[1].to_string(), "line 4, column nama: missing required value");
        let err = refusal(Path::new("k.csv"), vec![WilayahError::Header("code,name".into())]);
        assert!(matches!(err, ImportError::Malformed { line: 1, .. }), "{err}");
    }
}
