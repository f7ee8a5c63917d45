//! The one rule of who sees which rows: a staff role granted over a unit covers that unit and
//! everything below it (province "25" → commune "04792" → village "04792-001"); a role granted over
//! an agency covers that agency's people. The route guard turns a request's grants into a
//! [`UnitScope`] and hands it to the handler inside [`Staff`](super::access::Staff); every list,
//! export, dashboard and search filters through [`UnitScope::predicate`], never through SQL of its own.

use std::collections::BTreeSet;

use crate::domain::role::{Grant, Place, commune_of};
use crate::domain::unit::PROVINCE_CODE;

/// The units (and agencies) a request may see. Normalised: no village whose commune is in it, and the
/// province alone when any grant is province-wide.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitScope {
    province: bool,
    communes: BTreeSet<String>,
    villages: BTreeSet<String>,
    organisations: BTreeSet<String>,
}

/// Where a table keeps the place of its rows. Each is a column expression of the query.
#[derive(Clone, Copy, Debug, Default)]
pub struct Columns {
    /// A five-digit commune code.
    pub commune: Option<&'static str>,
    /// A village code `CCCCC-NNN`.
    pub village: Option<&'static str>,
    /// A code of any level (province, commune or village), as audit entries and grants keep.
    pub unit: Option<&'static str>,
    /// An organisation's code: an agency grant covers the rows of its organisation.
    pub organisation: Option<&'static str>,
}

/// A boolean SQL expression and the values of its placeholders, numbered from the `first` the
/// caller asked for, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Predicate {
    pub sql: String,
    pub binds: Vec<String>,
}

impl UnitScope {
    pub fn province() -> Self {
        Self { province: true, ..Self::default() }
    }

    /// Covers nothing: what a request holds when none of its grants applies.
    pub fn nothing() -> Self {
        Self::default()
    }

    /// The scope of these grants.
    pub fn of_grants<'a>(grants: impl IntoIterator<Item = &'a Grant>) -> Self {
        let mut scope = Self::default();
        for grant in grants {
            if grant.is_province() {
                return Self::province();
            }
            match &grant.organisation_code {
                Some(org) => {
                    scope.organisations.insert(org.clone());
                }
                None => scope.add_unit(&grant.unit_code),
            }
        }
        scope.normalise();
        scope
    }

    /// One unit, as named in a path the guard has checked the grants cover.
    pub fn unit(code: &str) -> Self {
        if code == PROVINCE_CODE {
            return Self::province();
        }
        let mut scope = Self::default();
        scope.add_unit(code);
        scope
    }

    fn add_unit(&mut self, code: &str) {
        if code == PROVINCE_CODE {
            self.province = true;
        } else if code.len() == 5 && commune_of(code).is_some() {
            self.communes.insert(code.to_owned());
        } else if commune_of(code).is_some() {
            self.villages.insert(code.to_owned());
        }
    }

    fn normalise(&mut self) {
        if self.province {
            *self = Self::province();
            return;
        }
        let communes = &self.communes;
        self.villages.retain(|v| commune_of(v).is_none_or(|c| !communes.contains(c)));
    }

    pub fn is_province(&self) -> bool {
        self.province
    }

    pub fn is_empty(&self) -> bool {
        !self.province && self.communes.is_empty() && self.villages.is_empty() && self.organisations.is_empty()
    }

    /// Whether a resource at this place is in scope.
    pub fn covers(&self, place: &Place) -> bool {
        if self.province {
            return true;
        }
        if place.organisation_code.as_ref().is_some_and(|o| self.organisations.contains(o)) {
            return true;
        }
        place.unit_code.as_deref().is_some_and(|unit| self.covers_unit(unit))
    }

    /// Whether the unit of this code, and so everything below it, is in scope.
    pub fn covers_unit(&self, code: &str) -> bool {
        if self.province {
            return true;
        }
        if self.villages.contains(code) {
            return true;
        }
        code != PROVINCE_CODE && commune_of(code).is_some_and(|c| self.communes.contains(c))
    }

    /// The unit codes of the scope, largest first: `["25"]`, or its communes then its villages.
    pub fn unit_codes(&self) -> Vec<String> {
        if self.province {
            return vec![PROVINCE_CODE.to_owned()];
        }
        self.communes.iter().chain(&self.villages).cloned().collect()
    }

    /// The agencies whose people are in scope.
    pub fn organisations(&self) -> impl Iterator<Item = &str> {
        self.organisations.iter().map(String::as_str)
    }

    /// The communes wholly in scope (none for the province: see [`Self::is_province`]).
    pub fn communes(&self) -> impl Iterator<Item = &str> {
        self.communes.iter().map(String::as_str)
    }

    /// The part of this scope that is also within `other` (a unit named in a path, say).
    pub fn within(&self, other: &UnitScope) -> UnitScope {
        if self.province {
            return other.clone();
        }
        if other.province {
            return self.clone();
        }
        let mut out = Self::default();
        for c in &self.communes {
            if other.covers_unit(c) {
                out.communes.insert(c.clone());
            }
        }
        for c in &other.communes {
            if self.covers_unit(c) {
                out.communes.insert(c.clone());
            }
        }
        for v in self.villages.iter().chain(&other.villages) {
            if self.covers_unit(v) && other.covers_unit(v) {
                out.villages.insert(v.clone());
            }
        }
        out.organisations = self.organisations.intersection(&other.organisations).cloned().collect();
        out.normalise();
        out
    }

    /// The SQL expression that holds for exactly the rows in scope, with placeholders `$first`,
    /// `$first + 1`, … A column the table lacks is left out, so it can only narrow: a village grant
    /// sees nothing of a table that knows only communes.
    pub fn predicate(&self, columns: Columns, first: usize) -> Predicate {
        if self.province {
            return Predicate { sql: "(1 = 1)".to_owned(), binds: Vec::new() };
        }
        let mut binds: Vec<String> = Vec::new();
        let mut terms: Vec<String> = Vec::new();
        let list = |values: &BTreeSet<String>, binds: &mut Vec<String>| -> String {
            let names: Vec<String> = values
                .iter()
                .map(|v| {
                    binds.push(v.clone());
                    format!("${}", first + binds.len() - 1)
                })
                .collect();
            names.join(", ")
        };
        if !self.communes.is_empty() {
            if let Some(col) = columns.commune {
                terms.push(format!("{col} IN ({})", list(&self.communes, &mut binds)));
            }
            if let Some(col) = columns.unit {
                // A unit of any level is inside a commune when its first five characters are the commune's.
                terms.push(format!("substr({col}, 1, 5) IN ({})", list(&self.communes, &mut binds)));
            }
            if columns.commune.is_none()
                && columns.unit.is_none()
                && let Some(col) = columns.village
            {
                // Through the tree rather than by the code's prefix, so that an index on the village column serves.
                terms.push(format!(
                    "{col} IN (SELECT code FROM unit WHERE parent_code IN ({}))",
                    list(&self.communes, &mut binds)
                ));
            }
        }
        if !self.villages.is_empty() {
            for col in [columns.village, columns.unit].into_iter().flatten() {
                terms.push(format!("{col} IN ({})", list(&self.villages, &mut binds)));
            }
        }
        if !self.organisations.is_empty()
            && let Some(col) = columns.organisation
        {
            terms.push(format!("{col} IN ({})", list(&self.organisations, &mut binds)));
        }
        if terms.is_empty() {
            return Predicate { sql: "(1 = 0)".to_owned(), binds };
        }
        Predicate { sql: format!("({})", terms.join(" OR ")), binds }
    }
}

/// Binds a predicate's values, in order, to any sqlx query of either backend.
#[macro_export]
macro_rules! bind_scope {
    ($query:expr, $predicate:expr) => {{
        let mut query = $query;
        for value in &$predicate.binds {
            query = query.bind(value.as_str());
        }
        query
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::role::Role;

    fn grant(unit: &str) -> Grant {
        Grant { role: Role::CanBoXa, unit_code: unit.into(), organisation_code: None }
    }

    fn at(unit: &str) -> Place {
        Place { unit_code: Some(unit.into()), organisation_code: None }
    }

    #[test]
    fn a_grant_covers_its_subtree_only() {
        let commune = UnitScope::of_grants(&[grant("04792")]);
        assert!(commune.covers(&at("04792")));
        assert!(commune.covers(&at("04792-001")));
        assert!(!commune.covers(&at("04795")));
        assert!(!commune.covers(&at("04795-001")));
        assert!(!commune.covers(&at("25")));
        let village = UnitScope::of_grants(&[grant("04792-001")]);
        assert!(village.covers(&at("04792-001")));
        assert!(!village.covers(&at("04792")));
        assert!(!village.covers(&at("04792-002")));
        assert!(UnitScope::of_grants(&[grant("04792"), grant("25")]).is_province());
        assert!(UnitScope::of_grants(&[]).is_empty());
        assert!(!UnitScope::of_grants(&[]).covers(&at("04792")));
    }

    #[test]
    fn villages_inside_a_covered_commune_are_dropped() {
        let scope = UnitScope::of_grants(&[grant("04792-001"), grant("04792"), grant("04795-002")]);
        assert_eq!(scope.unit_codes(), vec!["04792".to_owned(), "04795-002".to_owned()]);
    }

    #[test]
    fn an_agency_grant_covers_its_people_not_its_unit() {
        let agency =
            Grant { role: Role::CanBoNganh, unit_code: "25".into(), organisation_code: Some("SO-GDDT".into()) };
        let scope = UnitScope::of_grants(&[agency]);
        assert!(!scope.is_province());
        assert!(
            scope.covers(&Place { unit_code: Some("04792-001".into()), organisation_code: Some("SO-GDDT".into()) })
        );
        assert!(!scope.covers(&at("04792-001")));
    }

    #[test]
    fn within_narrows_to_both() {
        let officer = UnitScope::of_grants(&[grant("04792"), grant("04795")]);
        assert_eq!(officer.within(&UnitScope::unit("04792-003")).unit_codes(), vec!["04792-003".to_owned()]);
        assert_eq!(UnitScope::province().within(&UnitScope::unit("04795")).unit_codes(), vec!["04795".to_owned()]);
        assert!(officer.within(&UnitScope::unit("04798")).is_empty());
    }

    #[test]
    fn predicates_number_their_placeholders() {
        let scope = UnitScope::of_grants(&[grant("04792"), grant("04795-001")]);
        let p = scope.predicate(
            Columns { commune: Some("p.commune_code"), village: Some("p.village_code"), ..Columns::default() },
            3,
        );
        assert_eq!(p.sql, "(p.commune_code IN ($3) OR p.village_code IN ($4))");
        assert_eq!(p.binds, vec!["04792", "04795-001"]);
        let only_communes = scope.predicate(Columns { commune: Some("commune_code"), ..Columns::default() }, 1);
        assert_eq!(only_communes.sql, "(commune_code IN ($1))");
        let by_village = scope.predicate(Columns { village: Some("v"), ..Columns::default() }, 1);
        assert_eq!(by_village.sql, "(v IN (SELECT code FROM unit WHERE parent_code IN ($1)) OR v IN ($2))");
        assert_eq!(UnitScope::province().predicate(Columns::default(), 1).sql, "(1 = 1)");
        assert_eq!(UnitScope::nothing().predicate(Columns::default(), 1).sql, "(1 = 0)");
    }
}
