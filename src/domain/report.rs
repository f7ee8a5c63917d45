//! Quarterly reports: who reports (the province, a commune, an agency), the approval states as
//! DHIS2 has them, and the rules of moving between them. Pure: the store and the pages apply them.

use crate::domain::unit::PROVINCE_CODE;

/// Who a report belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reporter {
    Province,
    Commune(String),
    /// An agency code of `data-builtin/tasks.toml` (`so_gddt`).
    Agency(String),
}

impl Reporter {
    /// `25`, a commune's five digits, or an agency code the matrix knows.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if raw == PROVINCE_CODE {
            return Some(Self::Province);
        }
        if raw.len() == 5 && raw.bytes().all(|b| b.is_ascii_digit()) {
            return Some(Self::Commune(raw.to_owned()));
        }
        crate::domain::tasks::matrix().agency(raw).map(|a| Self::Agency(a.code.clone()))
    }

    /// The key stored in `quarterly_report.reporter` and used in addresses.
    pub fn key(&self) -> &str {
        match self {
            Self::Province => PROVINCE_CODE,
            Self::Commune(c) | Self::Agency(c) => c,
        }
    }

    pub fn is_province(&self) -> bool {
        matches!(self, Self::Province)
    }
}

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Draft,
    Submitted,
    Approved,
    Returned,
}

impl State {
    pub fn code(self) -> &'static str {
        match self {
            Self::Draft => "nhap",
            Self::Submitted => "da_gui",
            Self::Approved => "da_duyet",
            Self::Returned => "tra_lai",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Self::Draft, Self::Submitted, Self::Approved, Self::Returned].into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Bản nháp",
            Self::Submitted => "Đã gửi, chờ duyệt",
            Self::Approved => "Đã duyệt",
            Self::Returned => "Bị trả lại",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Submit,
    Approve,
    /// The level above returns (un-approves) a submitted or approved report.
    Return,
}

impl Action {
    pub fn parse(code: &str) -> Option<Self> {
        match code.trim() {
            "gui" => Some(Self::Submit),
            "duyet" => Some(Self::Approve),
            "tra_lai" => Some(Self::Return),
            _ => None,
        }
    }
}

/// Why a move is refused: a stable code and a Vietnamese sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: &'static str,
}

/// What the rules need to know besides the report's own state.
#[derive(Debug, Clone, Copy, Default)]
pub struct Around {
    /// For the province's report: reports below (communes, agencies) of the quarter not yet approved.
    pub pending_below: usize,
    /// For a report below: the province's report of the quarter is approved.
    pub province_approved: bool,
}

/// The state after `action`, or why not. `None` is a report not started yet (a draft).
pub fn next(reporter: &Reporter, current: Option<State>, action: Action, around: Around) -> Result<State, Refusal> {
    let current = current.unwrap_or(State::Draft);
    match action {
        Action::Submit => match current {
            State::Draft | State::Returned => Ok(State::Submitted),
            State::Submitted => {
                Err(Refusal { code: "report_already_submitted", message: "Báo cáo đã được gửi." })
            }
            State::Approved => Err(Refusal {
                code: "report_approved",
                message: "Báo cáo đã được duyệt, không gửi lại.",
            }),
        },
        Action::Approve => {
            if current != State::Submitted {
                return Err(Refusal {
                    code: "report_not_submitted", message: "Chỉ duyệt được báo cáo đã gửi."
                });
            }
            if reporter.is_province() && around.pending_below > 0 {
                return Err(Refusal {
                    code: "reports_below_not_approved",
                    message: "Còn báo cáo của xã, phường hoặc cơ quan chưa được duyệt.",
                });
            }
            Ok(State::Approved)
        }
        Action::Return => {
            if !matches!(current, State::Submitted | State::Approved) {
                return Err(Refusal {
                    code: "report_not_returnable",
                    message: "Chỉ trả lại báo cáo đã gửi hoặc đã duyệt.",
                });
            }
            if !reporter.is_province() && around.province_approved {
                return Err(Refusal {
                    code: "province_report_approved",
                    message: "Báo cáo của tỉnh đã được duyệt: không trả lại báo cáo cấp dưới được nữa.",
                });
            }
            Ok(State::Returned)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approval_order() {
        let commune = Reporter::Commune("04792".into());
        let none = Around::default();
        assert_eq!(next(&commune, None, Action::Submit, none), Ok(State::Submitted));
        assert!(next(&commune, None, Action::Approve, none).is_err());
        assert_eq!(next(&commune, Some(State::Submitted), Action::Approve, none), Ok(State::Approved));
        assert_eq!(next(&commune, Some(State::Approved), Action::Return, none), Ok(State::Returned));
        let locked = Around { province_approved: true, ..none };
        assert_eq!(
            next(&commune, Some(State::Approved), Action::Return, locked).unwrap_err().code,
            "province_report_approved"
        );
        let pending = Around { pending_below: 1, ..none };
        let p = Reporter::Province;
        assert_eq!(
            next(&p, Some(State::Submitted), Action::Approve, pending).unwrap_err().code,
            "reports_below_not_approved"
        );
        assert_eq!(next(&p, Some(State::Submitted), Action::Approve, none), Ok(State::Approved));
        assert_eq!(Reporter::parse("so_gddt"), Some(Reporter::Agency("so_gddt".into())));
        assert_eq!(Reporter::parse("25"), Some(Reporter::Province));
        assert_eq!(Reporter::parse("04792-001"), None);
    }
}
