// TEMPORARY until the real generator lands.
pub const PEOPLE_HEADER: [&str; 12] = [
    "cccd",
    "ho_ten",
    "ngay_sinh",
    "gioi_tinh",
    "ma_xa",
    "thon",
    "ma_ho",
    "dan_toc",
    "doi_tuong",
    "dien_thoai",
    "cap_hoc",
    "ma_to_chuc",
];
pub const UNITS_HEADER: [&str; 4] = ["ma_xa", "ma_thon", "ten_thon", "loai"];
pub const ORGANISATIONS_HEADER: [&str; 4] = ["ma_to_chuc", "ten", "loai", "ma_xa"];
pub struct VillageSpec {
    pub commune_code: String,
    pub code: String,
    pub name: String,
    pub kind: &'static str,
}
pub struct OrgSpec {
    pub code: String,
    pub name: String,
    pub kind: &'static str,
    pub commune_code: String,
}
pub fn villages(_seed: u64) -> Vec<VillageSpec> {
    vec![]
}
pub fn organisations(_seed: u64) -> Vec<OrgSpec> {
    vec![]
}
pub struct People;
impl People {
    pub fn new(_count: u64, _seed: u64) -> Self {
        People
    }
}
impl Iterator for People {
    type Item = [String; 12];
    fn next(&mut self) -> Option<Self::Item> {
        None
    }
}
pub fn write_people_csv(_c: u64, _s: u64, _o: impl std::io::Write) -> anyhow::Result<u64> {
    Ok(0)
}
pub fn write_units_csv(_s: u64, _o: impl std::io::Write) -> anyhow::Result<u64> {
    Ok(0)
}
pub fn write_organisations_csv(_s: u64, _o: impl std::io::Write) -> anyhow::Result<u64> {
    Ok(0)
}
