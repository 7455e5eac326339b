//! What the commands share to reach the database: opening it, and checking a
//! `--kelurahan` argument against it.

use std::sync::Arc;

use anyhow::bail;

use crate::config::Settings;
use crate::store::{self, Participants, Store};

/// Opens and migrates the configured database.
pub(super) async fn open(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let store = store::connect(&settings.database.url, &settings.database.connect_options()).await?;
    store.migrate().await?;
    Ok(store)
}

/// `--kelurahan` as a dotted code prefix, once it is known to name at least
/// one stored kelurahan: a malformed or unknown code is an error naming it,
/// not an empty table.
pub(super) async fn kelurahan_filter(store: &dyn Participants, arg: Option<&str>) -> anyhow::Result<Option<String>> {
    let Some(arg) = arg else { return Ok(None) };
    let prefix = crate::domain::kelurahan::parse_code_prefix(arg).map_err(|e| anyhow::anyhow!("--kelurahan: {e}"))?;
    let known = store.list_kelurahan().await?;
    if !known.iter().any(|k| k.code.has_prefix(&prefix)) {
        bail!(
            "--kelurahan {arg:?}: no kelurahan with code {prefix} or under it is in the database \
             (`pengingat import kelurahan FILE` loads the list)"
        );
    }
    Ok(Some(prefix))
}
