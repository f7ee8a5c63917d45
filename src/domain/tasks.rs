//! The responsibility matrix of the plan (`data-builtin/tasks.toml`): agencies, the tasks of section
//! IV with their lead and cooperating agencies, and the statuses an agency reports each quarter.

use std::sync::LazyLock;

use serde::Deserialize;

static SOURCE: &str = include_str!("../../data-builtin/tasks.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Agency {
    pub code: String,
    pub name_vi: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Task {
    pub code: String,
    pub title_vi: String,
    pub lead: Vec<String>,
    /// A paragraph of section VI, or `suy_luan` when the lead is only the likeliest reading.
    pub lead_source: String,
    #[serde(default)]
    pub cooperating: Vec<String>,
}

impl Task {
    /// The plan does not name the lead explicitly: shown "chờ xác nhận" until the province confirms.
    pub fn lead_inferred(&self) -> bool {
        self.lead_source.trim() == "suy_luan"
    }

    /// Whether `agency` leads or cooperates on this task.
    pub fn involves(&self, agency: &str) -> bool {
        self.lead.iter().chain(&self.cooperating).any(|a| a == agency)
    }
}

#[derive(Debug, Deserialize)]
pub struct Matrix {
    pub agency: Vec<Agency>,
    pub task: Vec<Task>,
}

impl Matrix {
    pub fn parse(text: &str) -> Result<Self, String> {
        let m: Matrix = toml::from_str(text).map_err(|e| e.to_string())?;
        for t in &m.task {
            if let Some(a) = t.lead.iter().chain(&t.cooperating).find(|a| !m.agency.iter().any(|x| &x.code == *a)) {
                return Err(format!("{}: unknown agency {a}", t.code));
            }
        }
        Ok(m)
    }

    pub fn agency(&self, code: &str) -> Option<&Agency> {
        self.agency.iter().find(|a| a.code == code)
    }

    pub fn task(&self, code: &str) -> Option<&Task> {
        self.task.iter().find(|t| t.code == code)
    }
}

/// The built-in matrix (checked by a unit test, so the parse cannot fail at run time).
pub fn matrix() -> &'static Matrix {
    static MATRIX: LazyLock<Matrix> =
        LazyLock::new(|| Matrix::parse(SOURCE).expect("data-builtin/tasks.toml is valid (unit-tested)"));
    &MATRIX
}

/// The agency of a grant's organisation code: `SO-GDDT` or `so_gddt` → `so_gddt`, if the matrix
/// knows it.
pub fn agency_of_organisation(organisation_code: &str) -> Option<&'static Agency> {
    let key = organisation_code.trim().to_ascii_lowercase().replace('-', "_");
    matrix().agency(&key)
}

/// What an agency says of a task in a quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    NotStarted,
    InProgress,
    Done,
    Late,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 4] = [Self::NotStarted, Self::InProgress, Self::Done, Self::Late];

    pub fn code(self) -> &'static str {
        match self {
            Self::NotStarted => "chua_bat_dau",
            Self::InProgress => "dang_thuc_hien",
            Self::Done => "hoan_thanh",
            Self::Late => "cham_tien_do",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::NotStarted => "Chưa bắt đầu",
            Self::InProgress => "Đang thực hiện",
            Self::Done => "Hoàn thành",
            Self::Late => "Chậm tiến độ",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_matrix_parses() {
        let m = Matrix::parse(SOURCE).unwrap();
        assert!(m.task.len() >= 20);
        assert!(m.task.iter().any(Task::lead_inferred));
        assert_eq!(agency_of_organisation("SO-GDDT").map(|a| a.code.as_str()), Some("so_gddt"));
        assert!(agency_of_organisation("x").is_none());
        assert_eq!(TaskStatus::parse("hoan_thanh"), Some(TaskStatus::Done));
    }
}
