//! Roles and their grants. A grant ties a role to a unit of the tree (or to an agency); what a grant
//! covers is decided in one place, `web::scope::UnitScope`.

use serde::Serialize;

use crate::domain::unit::PROVINCE_CODE;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    HocVien,
    DaiSuSo,
    ToCongNgheSo,
    HoTroMotCua,
    CanBoXa,
    CanBoNganh,
    QuanTriTinh,
    BienTap,
    KiemToan,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::HocVien,
        Role::DaiSuSo,
        Role::ToCongNgheSo,
        Role::HoTroMotCua,
        Role::CanBoXa,
        Role::CanBoNganh,
        Role::QuanTriTinh,
        Role::BienTap,
        Role::KiemToan,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::HocVien => "hoc_vien",
            Role::DaiSuSo => "dai_su_so",
            Role::ToCongNgheSo => "to_cong_nghe_so",
            Role::HoTroMotCua => "ho_tro_mot_cua",
            Role::CanBoXa => "can_bo_xa",
            Role::CanBoNganh => "can_bo_nganh",
            Role::QuanTriTinh => "quan_tri_tinh",
            Role::BienTap => "bien_tap",
            Role::KiemToan => "kiem_toan",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::HocVien => "Học viên",
            Role::DaiSuSo => "Đại sứ số",
            Role::ToCongNgheSo => "Tổ công nghệ số cộng đồng",
            Role::HoTroMotCua => "Hỗ trợ một cửa",
            Role::CanBoXa => "Cán bộ xã",
            Role::CanBoNganh => "Cán bộ ngành",
            Role::QuanTriTinh => "Quản trị tỉnh",
            Role::BienTap => "Biên tập nội dung",
            Role::KiemToan => "Kiểm toán",
        }
    }

    /// Anyone but a plain learner works with other people's data.
    pub fn is_staff(self) -> bool {
        self != Role::HocVien
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub unit_code: String,
    pub organisation_code: Option<String>,
}

/// Where a resource sits: the unit (village, commune or province) and the organisation, if any.
#[derive(Clone, Debug, Default)]
pub struct Place {
    pub unit_code: Option<String>,
    pub organisation_code: Option<String>,
}

impl Grant {
    pub fn is_province(&self) -> bool {
        self.organisation_code.is_none() && self.unit_code == PROVINCE_CODE
    }
}

/// The commune a unit code belongs to, if it is a commune or a village.
pub fn commune_of(unit: &str) -> Option<&str> {
    let commune = unit.split('-').next()?;
    (commune.len() == 5 && commune.bytes().all(|b| b.is_ascii_digit())).then_some(commune)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.code()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
