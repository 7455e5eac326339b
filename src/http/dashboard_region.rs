//! The dashboard beyond one city: `GET /wilayah/{kode}` shows a province,
//! kabupaten/kota, kecamatan or kelurahan with a row per region one level
//! down, and `GET /cari?q=` finds regions by name or code. Who may see them
//! is decided as for `GET /` ([`super::dashboard`]).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::AppState;
use super::auth::DashboardViewer;
use super::dashboard::{PageQuery, data, html, kept_page, region_page, unavailable};
use super::error::ApiError;
use crate::dashboard::search::{MAX_QUERY_CHARS, render_search};
use crate::domain::kelurahan::parse_code_prefix;
use crate::wilayah::region::Regions;

/// `GET /wilayah/{kode}` and `GET /cari`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/wilayah/{kode}", get(region))
        .route("/cari", get(search))
}

/// `GET /wilayah/{kode}`: the region with this code (dotted or not).
async fn region(
    State(state): State<AppState>,
    _viewer: DashboardViewer,
    Path(kode): Path<String>,
    query: Query<PageQuery>,
) -> Result<Response, ApiError> {
    let code = parse_code_prefix(&kode).map_err(|_| {
        ApiError::BadRequest(format!(
            "kode wilayah {kode:?} tidak sah: tulis kode provinsi (18), kabupaten/kota (18.72), \
             kecamatan (18.72.01) atau kelurahan/desa (18.72.01.1001)"
        ))
    })?;
    let page = query.page()?;
    let key = format!("/wilayah/{code}?hal={page}");
    let html_page = kept_page(&state, key, move |state| {
        let code = code.clone();
        async move {
            let (figures, kelurahan) = data(&state, Some(&code)).await.map_err(unavailable)?;
            if !kelurahan.iter().any(|k| k.code.has_prefix(&code)) {
                return Err(ApiError::NotFound(format!(
                    "wilayah {code} tidak ada dalam daftar kelurahan"
                )));
            }
            region_page(figures, &kelurahan, &code, page)
        }
    });
    Ok(html(html_page.await?.to_string()))
}

/// `?q=` (name or code) and `?hal=`.
#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    hal: Option<String>,
}

/// `GET /cari?q=`.
async fn search(
    State(state): State<AppState>,
    _viewer: DashboardViewer,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    let text = query.q.as_deref().unwrap_or_default().trim();
    let chars = text.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(ApiError::BadRequest(format!(
            "parameter q: paling banyak {MAX_QUERY_CHARS} karakter, diberikan {chars}"
        )));
    }
    let page = PageQuery { hal: query.hal }.page()?;
    let kelurahan = state.store.list_kelurahan().await.map_err(unavailable)?;
    match render_search(&Regions::of(&kelurahan), text, page) {
        Some(body) => Ok(html(body)),
        None => Err(ApiError::BadRequest(format!(
            "parameter hal: {page} melebihi jumlah halaman hasil"
        ))),
    }
}
