//! Re-planning after a schedule edit, on the store's side: the groups of
//! unsent reminders the scan reads, the changes it hands back (computed in
//! `scan::replan`), and the statements both backends write them with. Each
//! statement matches the rows on the group's old plan and on their status,
//! so a reminder the dispatcher claimed meanwhile is never touched.

/// Reminders not yet sent of one rule, kelurahan, contribution month and
/// channel that share a status and a plan: what a re-plan reads and
/// changes together. `expires_at` is the latest of the group.
#[derive(Debug, Clone, PartialEq, Eq, sqlx_macros::FromRow)]
pub struct UnsentGroup {
    pub rule: String,
    pub kelurahan_code: String,
    pub contribution_month: i32,
    pub channel: String,
    /// `pending`, `superseded` or `skipped`.
    pub status: String,
    pub occurrence_date: i32,
    pub send_date: i32,
    pub planned_at: i64,
    pub expires_at: Option<i64>,
}

impl UnsentGroup {
    /// The group's plan as stored.
    pub fn timing(&self) -> PlanTiming {
        PlanTiming {
            occurrence_date: self.occurrence_date,
            send_date: self.send_date,
            planned_at: self.planned_at,
            expires_at: self.expires_at,
        }
    }
}

/// When a reminder is planned: its rule's day, the day and instant it goes
/// out, and the instant it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanTiming {
    pub occurrence_date: i32,
    pub send_date: i32,
    pub planned_at: i64,
    pub expires_at: Option<i64>,
}

/// What a re-plan does to one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChange {
    /// Pending reminders get a new plan; `note` goes into their history.
    Move { to: PlanTiming, note: String },
    /// Pending reminders are cancelled with `reason` and give up their key.
    Cancel { reason: String },
    /// Superseded or skipped reminders give up their key, so that the scan
    /// may plan their rule's new day.
    Release,
}

/// Pending reminders of `rule` whose participant's funding is not in
/// `kept` are cancelled with `reason` and give up their key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundingCancel {
    pub rule: String,
    pub kept: Vec<String>,
    pub reason: String,
}

/// Everything one re-plan writes, in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replan {
    pub groups: Vec<(UnsentGroup, GroupChange)>,
    pub funding: Vec<FundingCancel>,
}

impl Replan {
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.funding.is_empty()
    }

    /// The earliest send date a moved reminder now has, for the
    /// one-message-per-day check.
    pub fn earliest_send_date(&self) -> Option<i32> {
        self.groups
            .iter()
            .filter_map(|(_, change)| match change {
                GroupChange::Move { to, .. } => Some(to.send_date),
                _ => None,
            })
            .min()
    }

    /// The groups of one kind of change as the JSON array the SQL reads
    /// (`{groups}` in the statements below).
    pub(super) fn groups_json(&self, kind: ChangeKind) -> Option<String> {
        let rows: Vec<serde_json::Value> = self
            .groups
            .iter()
            .filter(|(_, change)| ChangeKind::of(change) == kind)
            .map(|(g, change)| {
                let mut row = serde_json::json!({
                    "r": g.rule, "k": g.kelurahan_code, "m": g.contribution_month, "c": g.channel,
                    "st": g.status, "od": g.occurrence_date, "sd": g.send_date, "pa": g.planned_at,
                });
                match change {
                    GroupChange::Move { to, note } => {
                        row["nod"] = to.occurrence_date.into();
                        row["nsd"] = to.send_date.into();
                        row["npa"] = to.planned_at.into();
                        row["nea"] = to.expires_at.into();
                        row["note"] = note.as_str().into();
                    }
                    GroupChange::Cancel { reason } => row["note"] = reason.as_str().into(),
                    GroupChange::Release => {}
                }
                row
            })
            .collect();
        (!rows.is_empty()).then(|| serde_json::Value::Array(rows).to_string())
    }
}

/// The three kinds of [`GroupChange`], each written by one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChangeKind {
    Move,
    Cancel,
    Release,
}

impl ChangeKind {
    fn of(change: &GroupChange) -> Self {
        match change {
            GroupChange::Move { .. } => Self::Move,
            GroupChange::Cancel { .. } => Self::Cancel,
            GroupChange::Release => Self::Release,
        }
    }
}

/// What a re-plan changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplanCounts {
    /// Pending reminders with a new plan.
    pub moved: u64,
    /// Pending reminders cancelled.
    pub cancelled: u64,
    /// Superseded or skipped reminders that gave up their key.
    pub released: u64,
}

/// The columns of a group row, read from `{groups}` (a backend's JSON
/// row source, aliased `g`).
const GROUP_MATCH: &str = "reminders.rule = g.r AND reminders.kelurahan_code = g.k \
     AND reminders.contribution_month = g.m AND reminders.channel = g.c AND reminders.occurrence_date = g.od \
     AND reminders.send_date = g.sd AND reminders.planned_at = g.pa AND reminders.slot = 1";

/// The unsent reminders of the rules in `{rules}` (a backend's "rule in
/// the bound JSON list $1" condition), grouped: the pending ones, and the
/// superseded and skipped ones sent on or after `$2`.
pub(super) fn unsent_groups_sql(rules: &str) -> String {
    let columns = "rule, kelurahan_code, contribution_month, channel, status, occurrence_date, send_date, planned_at";
    format!(
        "SELECT {columns}, MAX(expires_at) AS expires_at FROM reminders \
         WHERE status = 'pending' AND slot = 1 AND {rules} GROUP BY {columns} \
         UNION ALL \
         SELECT {columns}, MAX(expires_at) AS expires_at FROM reminders \
         WHERE status IN ('superseded', 'skipped') AND slot = 1 AND send_date >= $2 AND {rules} GROUP BY {columns}"
    )
}

/// Locks the pending reminders a move is about to change, where the
/// backend reads without locking (PostgreSQL): no dispatcher claims one
/// between its history entry and its move, and a second instance
/// re-planning at the same moment waits, then finds the new plan.
pub(super) fn replan_lock_sql(groups: &str) -> String {
    format!(
        "SELECT reminders.id FROM {groups} JOIN reminders ON {GROUP_MATCH} \
         WHERE reminders.status = 'pending' FOR UPDATE OF reminders"
    )
}

/// The history entry of each moved reminder (written before the move,
/// while the old plan still finds it). `$2`: now.
pub(super) fn replan_history_sql(groups: &str) -> String {
    format!(
        "INSERT INTO reminder_events (reminder_id, status, reason, at) \
         SELECT reminders.id, 'pending', g.note, $2 FROM {groups} JOIN reminders ON {GROUP_MATCH} \
         WHERE reminders.status = 'pending'"
    )
}

/// Moves pending reminders to their new plan. `$2`: now.
pub(super) fn replan_move_sql(groups: &str) -> String {
    format!(
        "UPDATE reminders SET occurrence_date = g.nod, send_date = g.nsd, planned_at = g.npa, expires_at = g.nea, \
         updated_at = $2 FROM {groups} WHERE reminders.status = 'pending' AND {GROUP_MATCH}"
    )
}

/// Cancels pending reminders that no longer apply. `$2`: now.
pub(super) fn replan_cancel_sql(groups: &str) -> String {
    format!(
        "UPDATE reminders SET status = 'cancelled', reason = g.note, slot = NULL, updated_at = $2 \
         FROM {groups} WHERE reminders.status = 'pending' AND {GROUP_MATCH}"
    )
}

/// Releases the key of superseded and skipped reminders. `$2`: now.
pub(super) fn replan_release_sql(groups: &str) -> String {
    format!(
        "UPDATE reminders SET slot = NULL, updated_at = $2 \
         FROM {groups} WHERE reminders.status IN ('superseded', 'skipped') AND reminders.status = g.st \
         AND {GROUP_MATCH}"
    )
}

/// Cancels the pending reminders of rule `$1` whose participant's funding
/// is not kept (`{kept}`: the backend's "funding in the bound JSON list $2"
/// condition on `p`). `$3`: the reason, `$4`: now.
pub(super) fn funding_cancel_sql(kept: &str) -> String {
    format!(
        "UPDATE reminders SET status = 'cancelled', reason = $3, slot = NULL, updated_at = $4 \
         WHERE status = 'pending' AND slot = 1 AND rule = $1 \
         AND EXISTS (SELECT 1 FROM participants p WHERE p.id = reminders.participant_id AND NOT ({kept}))"
    )
}
