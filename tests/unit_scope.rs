//! The one unit scope, on both databases: for every kind of scope, the rows its SQL predicate
//! selects are exactly the rows its `covers` rule admits — people by commune, village and agency,
//! and units of any level by their code.

use crate::common;

use std::collections::BTreeSet;

use common::*;
use hocvuso::domain::role::{Grant, Place, Role};
use hocvuso::web::scope::{Columns, UnitScope};
use hocvuso::{bind_scope, on_pool};

fn grant(unit: &str) -> Grant {
    Grant { role: Role::CanBoXa, unit_code: unit.into(), organisation_code: None }
}

fn scopes(db: &TestDb) -> Vec<(&'static str, UnitScope)> {
    let village_home = db.query("SELECT min(code) FROM unit WHERE parent_code = '04792'").trim().to_owned();
    let village_away = db.query("SELECT min(code) FROM unit WHERE parent_code = '04795'").trim().to_owned();
    let agency = Grant { role: Role::CanBoNganh, unit_code: "25".into(), organisation_code: Some("TH-01".into()) };
    vec![
        ("province", UnitScope::of_grants(&[grant("25")])),
        ("home commune", UnitScope::of_grants(&[grant("04792")])),
        ("away commune", UnitScope::of_grants(&[grant("04795")])),
        ("both communes", UnitScope::of_grants(&[grant("04792"), grant("04795")])),
        ("a village", UnitScope::of_grants(&[grant(&village_home)])),
        ("a commune and another's village", UnitScope::of_grants(&[grant("04792"), grant(&village_away)])),
        ("an agency", UnitScope::of_grants(&[agency])),
        ("nothing", UnitScope::of_grants(&[])),
        ("a path's unit", UnitScope::of_grants(&[grant("04792")]).within(&UnitScope::unit(&village_home))),
    ]
}

#[tokio::test]
async fn predicates_select_what_the_rule_covers_on_both_databases() {
    for db in TestDb::all() {
        seed_people(&db);
        db.query("INSERT INTO organisation (code, name, kind, commune_code) VALUES ('TH-01', 'Trường thử', 'truong_hoc', '04795')");
        db.query("UPDATE person SET organisation_code = 'TH-01' WHERE full_name = 'Bùi Văn Dũng'");
        let store = db.store().await;
        let people: Vec<(i64, String, String, Option<String>)> = on_pool!(&store, pool =>
            sqlx::query_as("SELECT id, commune_code, village_code, organisation_code FROM person").fetch_all(pool).await)
        .unwrap();
        assert!(people.len() >= 5);
        let units: Vec<String> =
            on_pool!(&store, pool => sqlx::query_scalar("SELECT code FROM unit").fetch_all(pool).await).unwrap();

        // The first column of `SELECT … WHERE <predicate>`, as a set.
        macro_rules! select {
            ($sql:expr, $predicate:expr) => {{
                let sql = format!($sql, $predicate.sql);
                on_pool!(&store, pool =>
                    bind_scope!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), $predicate).fetch_all(pool).await)
                .unwrap()
                .into_iter()
                .collect::<BTreeSet<_>>()
            }};
        }
        let people_covered = |scope: &UnitScope, with_agency: bool| -> BTreeSet<i64> {
            people
                .iter()
                .filter(|(_, _, village, org)| {
                    let organisation_code = if with_agency { org.clone() } else { None };
                    scope.covers(&Place { unit_code: Some(village.clone()), organisation_code })
                })
                .map(|p| p.0)
                .collect()
        };
        for (name, scope) in scopes(&db) {
            let what = format!("{name} on {}", db.backend());
            // People, by commune, village and organisation.
            let within = scope.predicate(
                Columns {
                    commune: Some("commune_code"),
                    village: Some("village_code"),
                    organisation: Some("organisation_code"),
                    ..Columns::default()
                },
                1,
            );
            let found: BTreeSet<i64> = select!("SELECT id FROM person WHERE {}", within);
            assert_eq!(found, people_covered(&scope, true), "people of {what}");

            // The same people found through their village alone (the index the lists use).
            let by_village = scope.predicate(Columns { village: Some("village_code"), ..Columns::default() }, 1);
            let found: BTreeSet<i64> = select!("SELECT id FROM person WHERE {}", by_village);
            assert_eq!(found, people_covered(&scope, false), "people by village of {what}");

            // Units of every level, by code.
            let by_code = scope.predicate(Columns { unit: Some("code"), ..Columns::default() }, 1);
            let found: BTreeSet<String> = select!("SELECT code FROM unit WHERE {}", by_code);
            let expected: BTreeSet<String> = units.iter().filter(|u| scope.covers_unit(u)).cloned().collect();
            assert_eq!(found, expected, "units of {what}");
        }
        store.close().await;
    }
}
