//! Who may read, submit, approve and return which report, and update which task. From the
//! request's grants (`Staff`), never from SQL of its own.

use crate::domain::report::Reporter;
use crate::domain::role::Role::{self, *};
use crate::domain::tasks::agency_of_organisation;
use crate::domain::unit::PROVINCE_CODE;
use crate::web::access::Staff;

/// Roles that reach the report pages at all (each handler then checks the reporter).
pub const REPORT_ROLES: &[Role] = &[CanBoXa, HoTroMotCua, CanBoNganh, QuanTriTinh, KiemToan];

/// The agencies of the request's agency-officer grants.
pub fn agencies(staff: &Staff) -> Vec<String> {
    staff
        .user
        .holds(&[CanBoNganh])
        .filter_map(|g| g.organisation_code.as_deref().and_then(agency_of_organisation))
        .map(|a| a.code.clone())
        .collect()
}

/// The province's steering office: approves, returns, confirms leads, sees everything.
pub fn is_province_admin(staff: &Staff) -> bool {
    staff.user.scope(&[QuanTriTinh]).is_province()
}

/// Reads a report: the province's administrators and auditors any; commune staff their commune's;
/// agency officers their agency's.
pub fn may_read(staff: &Staff, reporter: &Reporter) -> bool {
    if staff.user.scope(&[QuanTriTinh, KiemToan]).is_province() {
        return true;
    }
    match reporter {
        Reporter::Province => false,
        Reporter::Commune(c) => staff.user.scope(&[CanBoXa, HoTroMotCua]).covers_unit(c),
        Reporter::Agency(a) => agencies(staff).iter().any(|x| x == a),
    }
}

/// Submits a report: a commune officer granted over that very commune, an agency officer of that
/// agency, the province administrator for the province's own report.
pub fn may_submit(staff: &Staff, reporter: &Reporter) -> bool {
    match reporter {
        Reporter::Province => is_province_admin(staff),
        Reporter::Commune(c) => {
            staff.user.holds(&[CanBoXa]).any(|g| g.organisation_code.is_none() && g.unit_code == *c)
        }
        Reporter::Agency(a) => agencies(staff).iter().any(|x| x == a),
    }
}

/// Approves or returns: the level above, which for every report is the province (the province
/// also approves its own report, last, and may return it).
pub fn may_decide(staff: &Staff, _reporter: &Reporter) -> bool {
    is_province_admin(staff)
}

/// The reporters a reader is offered on the list page.
pub fn own_reporters(staff: &Staff) -> Vec<Reporter> {
    let mut out = Vec::new();
    for code in staff.user.scope(&[CanBoXa, HoTroMotCua]).unit_codes() {
        if code != PROVINCE_CODE && code.len() == 5 {
            out.push(Reporter::Commune(code));
        }
    }
    out.extend(agencies(staff).into_iter().map(Reporter::Agency));
    out
}
