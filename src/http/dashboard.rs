//! `GET /`: the dashboard, one server-rendered page (see [`crate::dashboard`])
//! with the figures of `pengingat report` over all time and the active ratio
//! of the last 12 months; for more than one kabupaten/kota, the page of a
//! region with drill-down links, as at `GET /wilayah/{kode}` (see
//! [`super::dashboard_region`]).
//!
//! On a loopback address the page is open (whoever can reach it is on the
//! host already); on any other address it needs the dashboard token, as a
//! bearer token or as the password of basic auth, so a browser's login
//! prompt works.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::watch;

use super::AppState;
use super::auth::DashboardViewer;
use super::error::ApiError;
use super::page_cache::{Compute, PageCache};
use crate::dashboard::region::{RegionData, TOP_KELURAHAN, fold, rows_level, top_nonactive};
use crate::dashboard::region_page::render_region;
use crate::dashboard::{self, DashboardData, KelurahanRow, RuleFunnel};
use crate::domain::{DueDateRules, RegionTimeZone, StandingRules};
use crate::report::contacts::contact_list;
use crate::report::history::monthly_standing;
use crate::report::outcomes::{self, KelurahanReport, OutcomeReport, ReportQuery};
use crate::report::status::StandingData;
use crate::schedule::Schedules;
use crate::store::{Kelurahan, StoreError};
use crate::wilayah::region::{Level, Regions, region_code};

/// Who may see the dashboard and what it is computed with.
#[derive(Debug, Clone, Default)]
pub struct DashboardContext {
    /// The token asked for when the page is not open.
    pub token: Option<String>,
    /// Served without a token (the daemon listens on loopback only).
    pub open: bool,
    /// When contribution months fall due.
    pub due: DueDateRules,
    /// When a participant counts as non-active.
    pub standing: StandingRules,
    /// The current schedules, for the rules' order; by name without them.
    pub schedules: Option<watch::Receiver<Arc<Schedules>>>,
    /// Pages slow to compute (a country's), kept and refreshed in the background.
    pub pages: Arc<PageCache>,
}

/// `GET /` (a region's page and the search are served by
/// [`super::dashboard_region`]).
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(dashboard))
}

/// The city dashboard when every kelurahan with figures lies in one
/// kabupaten/kota; otherwise the page of all of Indonesia (or of the one
/// province), a row per province (or kabupaten/kota).
async fn dashboard(
    State(state): State<AppState>,
    _viewer: DashboardViewer,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let key = format!("/?hal={}", query.hal.as_deref().unwrap_or_default());
    let page = kept_page(&state, key, move |state| {
        let query = PageQuery { hal: query.hal.clone() };
        async move {
            let (data, kelurahan) = data(&state, None).await.map_err(unavailable)?;
            if dashboard::region::one_city(&data.kelurahan) {
                return Ok(dashboard::render(&data));
            }
            region_page(data, &kelurahan, "", query.page()?)
        }
    });
    Ok(html(page.await?.to_string()))
}

/// The page `key` from the dashboard's [`PageCache`], computed by `compute`
/// when it is not kept.
pub(super) fn kept_page<F, Fut>(
    state: &AppState,
    key: String,
    compute: F,
) -> impl std::future::Future<Output = Result<Arc<str>, ApiError>> + use<F, Fut>
where
    F: Fn(AppState) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<String, ApiError>> + Send + 'static,
{
    let pages = Arc::clone(&state.dashboard.pages);
    let now = state.clock.now();
    let state = state.clone();
    let compute: Compute = Arc::new(move || Box::pin(compute(state.clone())));
    async move { pages.page(key, now, compute).await }
}

/// The page of the region `code` (all of Indonesia when empty, or then the
/// one province every row lies in) from per-kelurahan `figures`.
pub fn region_page(
    mut figures: DashboardData,
    kelurahan: &[Kelurahan],
    code: &str,
    page: usize,
) -> Result<String, ApiError> {
    let regions = Regions::of(kelurahan);
    let code = if code.is_empty() {
        one_province(&figures.kelurahan).unwrap_or_default()
    } else {
        code.to_string()
    };
    let level = rows_level(&code);
    let rows = fold(&figures.kelurahan, level, &regions);
    let top = top_nonactive(&figures.kelurahan, TOP_KELURAHAN, &regions);
    figures.title = title(&regions, &code);
    figures.kelurahan = rows;
    let data = RegionData {
        page: figures,
        path: regions.path(&code),
        code,
        rows_level: level,
        top,
        table_page: page,
    };
    let pages = data.table_pages();
    if page > pages {
        return Err(ApiError::BadRequest(format!(
            "parameter hal: {page} melebihi jumlah halaman ({pages})"
        )));
    }
    Ok(render_region(&data))
}

/// The province every row lies in, if there is one.
fn one_province(rows: &[KelurahanRow]) -> Option<String> {
    let first = region_code(&rows.first()?.code, Level::Provinsi);
    rows.iter()
        .all(|r| region_code(&r.code, Level::Provinsi) == first)
        .then(|| first.to_string())
}

/// "Provinsi Lampung", "Kota Metro", "Kecamatan Metro Pusat", a kelurahan's
/// name, or "Semua wilayah".
fn title(regions: &Regions, code: &str) -> String {
    let Some(name) = regions.name(code) else {
        return "Semua wilayah".to_string();
    };
    match Level::of_code(code) {
        Some(Level::Provinsi) => format!("Provinsi {name}"),
        Some(Level::Kecamatan) => format!("Kecamatan {name}"),
        _ => name.to_string(),
    }
}

/// `?hal=N`: the page of a region's table, from 1.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    pub(super) hal: Option<String>,
}

impl PageQuery {
    /// The page asked for; 1 when none is.
    pub fn page(&self) -> Result<usize, ApiError> {
        match self.hal.as_deref() {
            None => Ok(1),
            Some(raw) => raw.trim().parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                ApiError::BadRequest(format!("parameter hal: harus bilangan bulat mulai 1, bukan {raw:?}"))
            }),
        }
    }
}

/// An HTML page that is never cached.
pub fn html(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// The answer when the figures cannot be read.
pub fn unavailable(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "dashboard: cannot read the figures");
    ApiError::Unavailable("data belum dapat dibaca; coba lagi")
}

/// The page's figures for kelurahan under `scope` (all when `None`), a
/// row per kelurahan, and every kelurahan known (for region names).
pub async fn data(state: &AppState, scope: Option<&str>) -> Result<(DashboardData, Vec<Kelurahan>), StoreError> {
    let ctx = &state.dashboard;
    let now = state.clock.now();
    let store = state.store.as_ref();
    let order: Vec<String> = ctx.schedules.as_ref().map_or_else(Vec::new, |s| {
        s.borrow().rules().iter().map(|r| r.name.to_string()).collect()
    });
    let query = ReportQuery {
        from: None,
        to: None,
        kelurahan: scope.map(str::to_string),
    };
    let data = StandingData::load(store, scope).await?;
    let due = match &ctx.schedules {
        Some(schedules) => schedules.borrow().with_kelurahan_holidays(&ctx.due),
        None => ctx.due.clone(),
    };
    let rules = (&due, &ctx.standing);
    let report = outcomes::compute_from(store, &data, rules, &query, &order, now).await?;
    let history = monthly_standing(store, &data, rules, scope, now, 12).await?;
    let contacts = contact_list(store, &data.kelurahan, scope).await?;
    let contacts_to_verify = crate::report::contacts::counts(&contacts).values().sum();
    let effect = effect_report(ctx, store, &data, scope, now).await?;
    let mut cities: Vec<&str> = data.kelurahan.iter().map(|k| k.kabupaten_kota.as_str()).collect();
    cities.sort_unstable();
    cities.dedup();
    let title = match cities.as_slice() {
        [one] => one.to_string(),
        _ => "Semua wilayah".to_string(),
    };
    let figures = DashboardData {
        title,
        generated_at: now,
        time_zone: RegionTimeZone::Wib.tz(),
        period: None,
        kelurahan: report.kelurahan.iter().map(row).collect(),
        total: row(&report.total),
        funnel: funnel(&report),
        history,
        contacts_to_verify,
        effect,
    };
    Ok((figures, data.kelurahan))
}

/// Reminded vs held out, while the schedules hold a group out.
async fn effect_report(
    ctx: &DashboardContext,
    store: &dyn crate::store::Store,
    data: &StandingData,
    scope: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<crate::report::effect::EffectReport>, StoreError> {
    let Some(schedules) = ctx.schedules.as_ref().map(|s| Arc::clone(&s.borrow())) else {
        return Ok(None);
    };
    if !schedules.holdout().enabled() {
        return Ok(None);
    }
    let report = crate::report::effect::compute(store, &data.kelurahan, &schedules, &ctx.due, scope, now).await?;
    Ok(Some(report))
}

fn row(k: &KelurahanReport) -> KelurahanRow {
    KelurahanRow {
        code: k.code.clone(),
        name: k.name.clone(),
        bpu: k.bpu,
        active: k.active,
        nonactive: k.nonactive,
        arrears_1: k.arrears_1,
        arrears_2: k.arrears_2,
        arrears_3_plus: k.arrears_3_plus,
        sent: k.effect.sent,
        sms_sent: k.effect.sms.sent,
        sms_delivered: k.effect.sms.delivered,
        email_accepted: k.effect.email.relay_accepted,
        email_failed: k.effect.email.failed,
        failed: k.effect.failed,
        converted: k.effect.converted,
        amount_paid: k.effect.amount_paid,
    }
}

/// One funnel per rule, both channels together, in the report's order;
/// delivered is SMS only (e-mail has no delivery receipts).
fn funnel(report: &OutcomeReport) -> Vec<RuleFunnel> {
    let mut out: Vec<RuleFunnel> = Vec::new();
    for r in &report.rules {
        let i = match out.iter().position(|f| f.rule == r.rule) {
            Some(i) => i,
            None => {
                out.push(RuleFunnel {
                    rule: r.rule.clone(),
                    ..Default::default()
                });
                out.len() - 1
            }
        };
        out[i].sent += r.sent;
        if let Some(delivered) = r.delivered {
            out[i].sms_sent += r.sent;
            out[i].delivered += delivered;
        }
        out[i].paid += r.converted;
    }
    out
}
