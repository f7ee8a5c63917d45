//! People: households drawn per commune and turned into import rows.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::*;

pub(super) const REFERENCE_YEAR: i32 = REFERENCE_DATE.0;
pub(super) const MAX_AGE: i32 = 100;

/// Weight of each age of a family's youngest child, by five-year band from 0–4 to 30.
pub(super) const YOUNGEST_CHILD_WEIGHT: [u32; 7] = [5, 4, 4, 7, 7, 4, 2];

/// Household sizes 1–7 in per-mille; mean ≈ 3.5 as in the 2019 census.
pub(super) const HOUSEHOLD_SIZES: [(usize, u32); 7] =
    [(1, 110), (2, 180), (3, 220), (4, 240), (5, 130), (6, 70), (7, 50)];

#[derive(Clone, Copy)]
pub(super) struct Member {
    pub(super) age: i32,
    pub(super) sex: Sex,
    pub(super) surname: &'static str,
    pub(super) ethnic: usize,
}

/// Precomputed tables for drawing people.
pub(super) struct Tables {
    pub(super) sizes: Weighted<usize>,
    pub(super) surnames: Vec<Weighted<&'static str>>,
    pub(super) elder_age: Weighted<i32>,
    pub(super) older_husband_age: Weighted<i32>,
    pub(super) youngest_child: Weighted<i32>,
    pub(super) youngest_child_with_grandparents: Weighted<i32>,
    pub(super) spacing: Weighted<i32>,
    pub(super) grandparents_of_five: Weighted<usize>,
    pub(super) grandparents_of_more: Weighted<usize>,
    pub(super) spouse_gap: Weighted<i32>,
    pub(super) mother_at_first_birth: Weighted<i32>,
}

impl Tables {
    pub(super) fn new() -> Self {
        Self {
            sizes: Weighted::new(HOUSEHOLD_SIZES),
            surnames: SURNAMES.iter().map(|t| Weighted::new(t.iter().copied())).collect(),
            // Fewer people at each older age: 60 is the most common, 95 the rarest.
            elder_age: Weighted::new((60..=95).map(|a| (a, (98 - a) as u32))),
            older_husband_age: Weighted::new((55..=92).map(|a| (a, (95 - a) as u32))),
            // Grown-up children often live with their parents until they marry.
            youngest_child: Weighted::new((0..=30).map(|a| (a, YOUNGEST_CHILD_WEIGHT[a as usize / 5]))),
            youngest_child_with_grandparents: Weighted::new((0..=12).map(|a| (a, 1))),
            grandparents_of_five: Weighted::new([(0, 40), (1, 35), (2, 25)]),
            grandparents_of_more: Weighted::new([(0, 25), (1, 35), (2, 40)]),
            spacing: Weighted::new([(1, 2), (2, 4), (3, 4), (4, 3)]),
            spouse_gap: Weighted::new([(0, 2), (1, 3), (2, 3), (3, 2), (4, 1), (5, 1)]),
            mother_at_first_birth: Weighted::new((20..=34).zip([6, 8, 10, 11, 11, 10, 9, 8, 6, 5, 4, 3, 2, 2, 1])),
        }
    }
}

/// Draws households and turns their members into rows; kept apart from the iterator state
/// so that a place can be borrowed while the random stream is advanced.
pub(super) struct Maker {
    pub(super) rng: ChaCha8Rng,
    pub(super) tables: Tables,
    pub(super) serials: Serials,
    pub(super) members: Vec<Member>,
}

impl Maker {
    pub(super) fn member(&mut self, age: i32, sex: Sex, ethnic: usize) -> Member {
        Member { age: age.clamp(0, MAX_AGE), sex, surname: self.tables.surnames[ethnic].pick(&mut self.rng), ethnic }
    }

    pub(super) fn random_sex(&mut self, female_per_mille: u32) -> Sex {
        if chance(&mut self.rng, female_per_mille) { Sex::Female } else { Sex::Male }
    }

    /// A spouse is usually of the same group; otherwise of any group living in the commune.
    pub(super) fn spouse_ethnic(&mut self, place: &Place, own: usize) -> usize {
        if chance(&mut self.rng, 850) { own } else { place.ethnic.pick(&mut self.rng) }
    }

    pub(super) fn couple(&mut self, place: &Place, ethnic: usize, husband_age: i32) {
        let gap = self.tables.spouse_gap.pick(&mut self.rng);
        let husband = self.member(husband_age, Sex::Male, ethnic);
        let wife_ethnic = self.spouse_ethnic(place, ethnic);
        let wife = self.member((husband_age - gap).max(18), Sex::Female, wife_ethnic);
        self.members.extend([husband, wife]);
    }

    /// Fills `members`: the head first, then spouse, children (eldest first), grandparents.
    pub(super) fn household(&mut self, place: &Place) {
        self.members.clear();
        let size = self.tables.sizes.pick(&mut self.rng);
        let ethnic = place.ethnic.pick(&mut self.rng);
        match size {
            1 => {
                let person = if chance(&mut self.rng, 600) {
                    let age = self.tables.elder_age.pick(&mut self.rng);
                    let sex = self.random_sex(680);
                    self.member(age, sex, ethnic)
                } else {
                    let age = self.rng.random_range(19..=45);
                    let sex = self.random_sex(400);
                    self.member(age, sex, ethnic)
                };
                self.members.push(person);
            }
            2 => match self.rng.random_range(0..100u32) {
                0..45 => {
                    let age = self.tables.older_husband_age.pick(&mut self.rng);
                    self.couple(place, ethnic, age);
                }
                45..60 => {
                    let age = self.rng.random_range(21..=35);
                    self.couple(place, ethnic, age);
                }
                60..90 => self.family(place, ethnic, 1, 1, 0),
                _ => {
                    // Grandparents raising a grandchild while the parents work away.
                    let age = self.rng.random_range(50..=80);
                    let sex = self.random_sex(750);
                    let grandparent = self.member(age, sex, ethnic);
                    let child_age = self.rng.random_range(1..=15);
                    let child_sex = self.random_sex(480);
                    let mut child = self.member(child_age, child_sex, ethnic);
                    if sex == Sex::Male {
                        child.surname = grandparent.surname;
                    }
                    self.members.extend([grandparent, child]);
                }
            },
            n => {
                let grandparents = match n {
                    3 => 0,
                    4 => usize::from(chance(&mut self.rng, 300)),
                    5 => self.tables.grandparents_of_five.pick(&mut self.rng),
                    _ => self.tables.grandparents_of_more.pick(&mut self.rng),
                };
                let parents = if chance(&mut self.rng, 100) { 1 } else { 2 };
                self.family(place, ethnic, parents, n - parents - grandparents, grandparents);
            }
        }
    }

    /// Parents, children 20–40 years younger than each parent, and the head's own parents.
    pub(super) fn family(&mut self, place: &Place, ethnic: usize, parents: usize, kids: usize, grandparents: usize) {
        let rng = &mut self.rng;
        let youngest = if grandparents > 0 {
            self.tables.youngest_child_with_grandparents.pick(rng)
        } else {
            self.tables.youngest_child.pick(rng)
        };
        let mut ages = [youngest; 7];
        for i in 1..kids {
            ages[i] = ages[i - 1] + self.tables.spacing.pick(rng);
        }
        let eldest = ages[kids - 1];
        let span = eldest - youngest;
        // span ≤ 16, so both parents stay within 20–40 years of every child.
        let gap = self.tables.spouse_gap.pick(rng).min(20 - span);
        let at_first = self.tables.mother_at_first_birth.pick(rng).min(40 - gap - span);
        let mother_age = eldest + at_first;
        let father_age = mother_age + gap;

        let father = self.member(father_age, Sex::Male, ethnic);
        let mother_ethnic = if parents == 2 { self.spouse_ethnic(place, ethnic) } else { ethnic };
        let mother = self.member(mother_age, Sex::Female, mother_ethnic);
        let (with_father, with_mother) = match parents {
            2 => (true, true),
            _ if chance(&mut self.rng, 200) => (true, false),
            _ => (false, true),
        };
        if with_father {
            self.members.push(father);
        }
        if with_mother {
            self.members.push(mother);
        }
        for &age in ages[..kids].iter().rev() {
            let sex = self.random_sex(480);
            let mut child = self.member(age, sex, ethnic);
            child.surname = father.surname;
            self.members.push(child);
        }
        if grandparents > 0 {
            // The head's own parents: a grandfather carries the head's surname.
            let head = if with_father { father } else { mother };
            let gap_up = self.rng.random_range(23..=36).min(MAX_AGE - head.age).max(20);
            let grandfather_age = head.age + gap_up;
            let grandmother_age = (grandfather_age - self.tables.spouse_gap.pick(&mut self.rng)).max(head.age + 20);
            let grandmother_ethnic = self.spouse_ethnic(place, head.ethnic);
            let grandmother = self.member(grandmother_age, Sex::Female, grandmother_ethnic);
            let mut grandfather = self.member(grandfather_age, Sex::Male, head.ethnic);
            grandfather.surname = head.surname;
            if grandparents == 2 {
                self.members.extend([grandfather, grandmother]);
            } else if chance(&mut self.rng, 700) {
                // Women outlive men: a lone grandparent is most often the grandmother.
                self.members.push(grandmother);
            } else {
                self.members.push(grandfather);
            }
        }
    }

    pub(super) fn full_name(&mut self, m: &Member, birth_year: i32) -> String {
        let rng = &mut self.rng;
        let female = m.sex == Sex::Female;
        let (middle, given_pool): (&str, &[&str]) = if m.ethnic == HMONG && chance(rng, 700) {
            let middle = if female { "Thị" } else { "A" };
            (middle, if female { HMONG_FEMALE_GIVEN } else { HMONG_MALE_GIVEN })
        } else {
            let traditional = match (birth_year, female) {
                (..1975, false) => 650,
                (..1975, true) => 850,
                (..2000, false) => 400,
                (..2000, true) => 550,
                (_, false) => 150,
                (_, true) => 250,
            };
            let middle = match (chance(rng, traditional), female) {
                (true, false) => "Văn",
                (true, true) => "Thị",
                (false, false) => *pick_from(rng, MALE_MIDDLE),
                (false, true) => *pick_from(rng, FEMALE_MIDDLE),
            };
            (middle, if female { FEMALE_GIVEN } else { MALE_GIVEN })
        };
        // Four-word names like "Nguyễn Thị Thu Hà" are common among women born since the 1970s.
        let second = if female && middle == "Thị" && birth_year >= 1970 && chance(rng, 200) {
            Some(*pick_from(rng, FEMALE_MIDDLE))
        } else {
            None
        };
        let mut given = *pick_from(rng, given_pool);
        while given == middle || Some(given) == second {
            given = *pick_from(rng, given_pool);
        }
        let mut name = String::with_capacity(40);
        name.push_str(m.surname);
        name.push(' ');
        name.push_str(middle);
        if let Some(s) = second {
            name.push(' ');
            name.push_str(s);
        }
        name.push(' ');
        name.push_str(given);
        name
    }

    pub(super) fn row(&mut self, place: &Place, village: &str, household: &str, m: &Member) -> [String; 12] {
        let year = REFERENCE_YEAR - m.age;
        let month = self.rng.random_range(1..=12u32);
        let day = self.rng.random_range(1..=days_in_month(year, month));
        let birth = if chance(&mut self.rng, 850) {
            format!("{day}/{month}/{year}")
        } else {
            format!("{year}-{month:02}-{day:02}")
        };

        // Births registered since the 1 July 2025 merger get the new province's code.
        let prefix = if chance(&mut self.rng, 30) {
            self.serials.other_prefix(&mut self.rng, place.prefix)
        } else if (year, month) >= (2025, 7) {
            25
        } else {
            place.prefix
        };
        let (prefix, serial) = self.serials.next(prefix, year, m.sex);
        let cccd = CitizenId::compose(prefix, year, m.sex, serial)
            .expect("a known prefix and a birth year in 1900–2199")
            .expose()
            .to_owned();
        let name = self.full_name(m, year);

        let rng = &mut self.rng;
        let age = m.age;
        let mut official = false;
        let mut student = false;
        let mut worker = false;
        let groups = if age < 6 {
            ""
        } else if age < 18 {
            student = true;
            "hoc_sinh_sinh_vien"
        } else {
            official = (22..=60).contains(&age) && chance(rng, 30);
            student = !official && (18..=22).contains(&age) && chance(rng, 300);
            worker = !official && age <= 60 && chance(rng, 206);
            match (official, student, worker) {
                (true, _, _) => "nguoi_dan|can_bo",
                (false, true, true) => "nguoi_dan|hoc_sinh_sinh_vien|nguoi_lao_dong",
                (false, true, false) => "nguoi_dan|hoc_sinh_sinh_vien",
                (false, false, true) => "nguoi_dan|nguoi_lao_dong",
                (false, false, false) => "nguoi_dan",
            }
        };
        let level = match age {
            6..=10 => "tieu_hoc",
            11..=14 => "thcs",
            15..=17 => "thpt",
            _ => "dai_hoc",
        };
        // Half the pupils leave the level empty: the importer derives it from the age.
        let school_level = if student && chance(rng, 500) { level } else { "" };
        let org: &str = if official {
            pick_from(rng, &place.agencies).as_str()
        } else if worker && !place.employers.is_empty() && chance(rng, 500) {
            pick_from(rng, &place.employers).as_str()
        } else if student && age < 18 {
            let schools = match level {
                "tieu_hoc" => &place.primary,
                "thcs" => &place.lower_secondary,
                _ => &place.upper_secondary,
            };
            if schools.is_empty() { "" } else { pick_from(rng, schools).as_str() }
        } else {
            ""
        };
        let phone = if age >= 18 && chance(rng, 700) {
            let prefix = pick_from(rng, PHONE_PREFIXES);
            format!("{prefix}{:07}", rng.random_range(0..10_000_000u32))
        } else {
            String::new()
        };

        [
            cccd,
            name,
            birth,
            m.sex.label_vi().to_owned(),
            place.code.clone(),
            village.to_owned(),
            household.to_owned(),
            ETHNIC_GROUPS[m.ethnic].to_owned(),
            groups.to_owned(),
            phone,
            school_level.to_owned(),
            org.to_owned(),
        ]
    }
}

pub(super) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Splits `count` over the places by weight (largest remainder), at least one each when there are enough.
pub(super) fn quotas(count: u64, places: &[Place]) -> Vec<u64> {
    let n = places.len() as u64;
    let floor = if count >= n { 1 } else { 0 };
    let rest = count - floor * n;
    let total: u128 = places.iter().map(|p| u128::from(p.weight)).sum();
    let mut out: Vec<u64> = Vec::with_capacity(places.len());
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(places.len());
    for (i, p) in places.iter().enumerate() {
        let exact = u128::from(rest) * u128::from(p.weight);
        out.push(floor + (exact / total) as u64);
        remainders.push((exact % total, i));
    }
    let assigned: u64 = out.iter().sum();
    // Ties go to the earlier commune, so the split never depends on sort stability.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in remainders.iter().take((count - assigned) as usize) {
        out[i] += 1;
    }
    out
}

/// People: an iterator of rows (12 strings in `PEOPLE_HEADER` order), exactly `count` rows,
/// deterministic from (count, seed). Households are whole and grouped by commune.
pub struct People {
    pub(super) places: Vec<Place>,
    pub(super) quotas: Vec<u64>,
    pub(super) maker: Maker,
    pub(super) place: usize,
    pub(super) left_in_place: u64,
    pub(super) household_number: u32,
    /// Rows of the current household, last member first so that `pop` keeps the household's order.
    pub(super) pending: Vec<[String; 12]>,
    pub(super) remaining: u64,
}

impl People {
    pub fn new(count: u64, seed: u64) -> Self {
        let places = Layout::new(seed).places;
        let quotas = quotas(count, &places);
        let left_in_place = quotas.first().copied().unwrap_or(0);
        Self {
            places,
            quotas,
            maker: Maker {
                rng: rng_for(seed, STREAM_PEOPLE),
                tables: Tables::new(),
                serials: Serials::new(seed),
                members: Vec::with_capacity(7),
            },
            place: 0,
            left_in_place,
            household_number: 0,
            pending: Vec::with_capacity(7),
            remaining: count,
        }
    }

    pub(super) fn next_household(&mut self) {
        while self.left_in_place == 0 {
            self.place += 1;
            self.left_in_place = self.quotas[self.place];
            self.household_number = 0;
        }
        let place = &self.places[self.place];
        let maker = &mut self.maker;
        maker.household(place);
        // The commune's last household is cut to fit its quota; the head comes first, so it keeps an adult.
        let size = (maker.members.len() as u64).min(self.left_in_place) as usize;
        self.left_in_place -= size as u64;
        self.household_number += 1;
        let household = format!("HO-{:06}", self.household_number);
        let village_index = place.village_pick.pick(&mut maker.rng) as usize;
        let village = &place.village_names[village_index];
        let members = std::mem::take(&mut maker.members);
        for member in members[..size].iter().rev() {
            let row = maker.row(place, village, &household, member);
            self.pending.push(row);
        }
        maker.members = members;
    }
}

impl Iterator for People {
    type Item = [String; 12];

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        if self.pending.is_empty() {
            self.next_household();
        }
        self.remaining -= 1;
        self.pending.pop()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}
