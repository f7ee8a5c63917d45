//! The responsibility matrix as data: each task of `data-builtin/tasks.toml` with each agency that
//! leads it or cooperates on it, and what that agency reported for a quarter (`task_update`).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::indicators::targets;
use crate::domain::tasks::{TaskStatus, matrix};
use crate::domain::time::today;
use crate::on_pool;
use crate::store::Store;
use crate::tracking::snapshot::Quarter;

/// One task as one agency carries it, for one quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskLine {
    pub code: String,
    pub title: String,
    pub agency: String,
    pub agency_name: String,
    /// The agency leads the task (else it cooperates).
    pub leads: bool,
    /// The lead is the likeliest reading of the plan and the province has not confirmed it.
    pub lead_pending: bool,
    /// `TaskStatus` code, none before the agency's first update of the quarter.
    pub status: Option<String>,
    pub progress: Option<i64>,
    pub evidence: String,
    pub evidence_key: Option<String>,
    /// No update for the quarter and its due date (the 25th of its last month) has passed.
    pub overdue: bool,
}

impl TaskLine {
    pub fn status_label(&self) -> &'static str {
        match self.status.as_deref().and_then(TaskStatus::parse) {
            Some(s) => s.label(),
            None if self.overdue => "Quá hạn, chưa cập nhật",
            None => "Chưa cập nhật",
        }
    }

    /// The evidence as a report prints it: the agency's text, then whether a file is attached. The
    /// file stays in the matrix (the agency's and the province's download); the report names its
    /// type and content hash so that a reader can tell which file the figures were approved with.
    pub fn evidence_line(&self) -> String {
        let file = self.evidence_key.as_deref().map(|key| {
            let name = key.rsplit('/').next().unwrap_or(key);
            let (hash, ext) = name.rsplit_once('.').unwrap_or((name, ""));
            format!("Tệp minh chứng đính kèm ({}, mã {hash})", ext.to_uppercase())
        });
        match (self.evidence.is_empty(), file) {
            (_, None) => self.evidence.clone(),
            (true, Some(file)) => file,
            (false, Some(file)) => format!("{} — {file}", self.evidence),
        }
    }

    pub fn role_label(&self) -> &'static str {
        match (self.leads, self.lead_pending) {
            (true, true) => "Chủ trì (chờ xác nhận)",
            (true, false) => "Chủ trì",
            (false, _) => "Phối hợp",
        }
    }
}

/// The day a quarter's updates are due: the `due_day_of_last_month` of `targets.toml` (25).
pub fn due_date(quarter: Quarter) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(quarter.year, quarter.number * 3, targets().reporting.due_day_of_last_month)
}

type UpdateRow = (String, String, String, i64, String, Option<String>);

/// The tasks confirmed by the province (leads that were `suy_luan`).
pub async fn confirmed(store: &Store) -> sqlx::Result<HashSet<String>> {
    let rows: Vec<String> = on_pool!(store, pool => sqlx::query_scalar("SELECT task_code FROM task_lead_confirmation").fetch_all(pool).await)?;
    Ok(rows.into_iter().collect())
}

/// Every (task, agency) of the matrix for `quarter`, or those of one agency.
pub async fn lines(store: &Store, quarter: Quarter, agency: Option<&str>) -> sqlx::Result<Vec<TaskLine>> {
    let rows: Vec<UpdateRow> = on_pool!(store, pool => sqlx::query_as(
        "SELECT task_code, agency_code, status, CAST(progress AS BIGINT), evidence, evidence_key \
         FROM task_update WHERE quarter = $1")
        .bind(quarter.to_string()).fetch_all(pool).await)?;
    let updates: HashMap<(String, String), UpdateRow> =
        rows.into_iter().map(|r| ((r.0.clone(), r.1.clone()), r)).collect();
    let confirmed = confirmed(store).await?;
    let late = due_date(quarter).is_some_and(|due| today() > due);
    let m = matrix();
    let mut out = Vec::new();
    for task in &m.task {
        let involved = task.lead.iter().map(|a| (a, true)).chain(task.cooperating.iter().map(|a| (a, false)));
        for (code, leads) in involved {
            if agency.is_some_and(|a| a != code.as_str()) {
                continue;
            }
            let update = updates.get(&(task.code.clone(), code.clone()));
            out.push(TaskLine {
                code: task.code.clone(),
                title: task.title_vi.clone(),
                agency: code.clone(),
                agency_name: m.agency(code).map(|a| a.name_vi.clone()).unwrap_or_default(),
                leads,
                lead_pending: leads && task.lead_inferred() && !confirmed.contains(&task.code),
                status: update.map(|u| u.2.clone()),
                progress: update.map(|u| u.3),
                evidence: update.map(|u| u.4.clone()).unwrap_or_default(),
                evidence_key: update.and_then(|u| u.5.clone()),
                overdue: update.is_none() && late,
            });
        }
    }
    Ok(out)
}
