//! The holdout group in the database: its members (`holdout_members`,
//! rewritten by the scan from `domain::holdout`) and the rows the effect
//! report is computed from. The SQL means the same on both backends and is
//! expanded over each by [`holdout_queries`].

use crate::domain::holdout::Candidate;

/// One participant's entry into the measurement for one contribution
/// month: they had a reminder row (sent or not) of a held-out rule for it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct EffectRow {
    pub participant_id: i64,
    pub kelurahan_code: String,
    /// The contribution month (index).
    pub contribution_month: i32,
    /// 1 when any of those rows was skipped with reason `holdout`.
    pub held_out: i32,
    /// The earliest payment covering the month (Unix seconds), if any.
    pub paid_at: Option<i64>,
}

impl EffectRow {
    /// Whether the participant was held out for this month.
    pub fn is_held_out(&self) -> bool {
        self.held_out != 0
    }
}

/// Whether `name` is a rule name as the schedules allow it (a-z, 0-9, `+`,
/// `_`, `-`), so that it can be written into SQL as a literal.
fn is_rule_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '_' | '-'))
}

/// The effect report's rows for `rules`: per participant and month, whether
/// they were held out and when they first paid for the month. A row
/// skipped for another reason (a day missed while the daemon was down, or
/// passed before a payment) did not put anyone into the measurement.
pub(crate) fn effect_rows_sql(rules: &[String]) -> String {
    effect_rows_sql_where(rules, "1 = 1")
}

/// [`effect_rows_sql`] over the reminders `r` that also meet `condition`.
pub(crate) fn effect_rows_sql_where(rules: &[String], condition: &str) -> String {
    let list: Vec<String> = rules
        .iter()
        .filter(|r| is_rule_name(r))
        .map(|r| format!("'{r}'"))
        .collect();
    let list = if list.is_empty() {
        "''".to_string()
    } else {
        list.join(", ")
    };
    format!(
        "SELECT g.participant_id, g.kelurahan_code, g.contribution_month, g.held_out, \
           (SELECT MIN(pay.paid_at) FROM payments pay WHERE pay.participant_id = g.participant_id \
              AND pay.first_month <= g.contribution_month AND pay.last_month >= g.contribution_month) AS paid_at \
         FROM (SELECT r.participant_id, r.kelurahan_code, r.contribution_month, \
                      MAX(CASE WHEN r.reason = 'holdout' THEN 1 ELSE 0 END) AS held_out \
               FROM reminders r \
               WHERE r.rule IN ({list}) AND NOT (r.status = 'skipped' AND COALESCE(r.reason, '') <> 'holdout') \
                 AND {condition} \
               GROUP BY r.participant_id, r.kelurahan_code, r.contribution_month) g \
         ORDER BY g.kelurahan_code, g.contribution_month, g.participant_id"
    )
}

/// Every BPU participant, as the holdout assignment reads them.
pub(crate) const CANDIDATES_SQL: &str =
    "SELECT id, nik, kelurahan_code FROM participants WHERE segment = 'bpu' ORDER BY id";

/// A candidate row as read.
#[derive(Debug, Clone, sqlx_macros::FromRow)]
pub(crate) struct CandidateRow {
    pub id: i64,
    pub nik: String,
    pub kelurahan_code: String,
}

impl From<CandidateRow> for Candidate {
    fn from(r: CandidateRow) -> Self {
        Candidate {
            id: r.id,
            nik: r.nik,
            kelurahan_code: r.kelurahan_code,
        }
    }
}

/// Expands, for one backend's database type `$db`, the holdout queries:
/// `candidates`, `replace_members` and `effect_rows`.
macro_rules! holdout_queries {
    ($db:ty) => {
        use sqlx::Pool;

        use crate::domain::holdout::Candidate;
        use crate::store::StoreError;
        use crate::store::common::Dialect;
        use crate::store::holdout::{CANDIDATES_SQL, CandidateRow, EffectRow, effect_rows_sql};

        /// Every BPU participant (id, NIK, kelurahan).
        pub(super) async fn candidates(pool: &Pool<$db>) -> Result<Vec<Candidate>, StoreError> {
            let rows: Vec<CandidateRow> = sqlx::query_as(CANDIDATES_SQL).fetch_all(pool).await?;
            Ok(rows.into_iter().map(Candidate::from).collect())
        }

        /// Makes `members` (id, kelurahan) the holdout group, in one
        /// transaction; nothing is written when it is the group already.
        /// Returns whether it changed.
        pub(super) async fn replace_members(
            pool: &Pool<$db>,
            members: &[(i64, String)],
            now: i64,
        ) -> Result<bool, StoreError> {
            let current: Vec<(i64,)> =
                sqlx::query_as("SELECT participant_id FROM holdout_members ORDER BY participant_id")
                    .fetch_all(pool)
                    .await?;
            if current.len() == members.len() && current.iter().zip(members).all(|((a,), (b, _))| a == b) {
                return Ok(false);
            }
            let mut tx = <$db as Dialect>::begin_write(pool).await?;
            sqlx::query("DELETE FROM holdout_members")
                .execute(&mut *tx)
                .await?;
            for chunk in members.chunks(500) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO holdout_members (participant_id, kelurahan_code, assigned_at) ",
                );
                q.push_values(chunk, |mut row, (id, code)| {
                    row.push_bind(*id).push_bind(code.clone()).push_bind(now);
                });
                // Another instance writing the same group at once.
                q.push(" ON CONFLICT (participant_id) DO NOTHING");
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(true)
        }

        /// The effect report's rows for the held-out `rules`.
        pub(super) async fn effect_rows(pool: &Pool<$db>, rules: &[String]) -> Result<Vec<EffectRow>, StoreError> {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(effect_rows_sql(rules)))
                .fetch_all(pool)
                .await?)
        }
    };
}

pub(crate) use holdout_queries;
