//! `hocvuso demo` fills the community models of the demo commune (issue 22, part A), on both
//! databases, and runs again over its own database (the wipe clears them first).

use crate::common;

use common::*;

#[test]
fn the_demo_fills_teams_visits_mentors_and_the_one_stop_desk() {
    for db in TestDb::all() {
        let what = db.backend();
        for _ in 0..2 {
            let out = db.cli(&["demo", "--no-serve", "--people", "2000", "--seed", "5", "--reset"]);
            assert!(out.status.success(), "{what}: {}", stderr(&out));
            assert!(stderr(&out).contains("lượt thăm hộ"), "{what}: {}", stderr(&out));
        }
        let commune = db.query("SELECT commune_code FROM tech_team").trim().to_owned();
        assert_eq!(commune.len(), 5, "{what}: one team in the demo commune");
        assert!(db.scalar("SELECT count(*) FROM team_visit") > 0, "{what}");
        assert!(db.scalar("SELECT count(*) FROM team_visit_person") > 0, "{what}");
        assert_eq!(db.scalar("SELECT count(DISTINCT mentor_id) FROM mentee"), 2, "{what}");
        // One mentor under the plan's 5 mentees, for the compliance list to name.
        assert_eq!(
            db.scalar("SELECT count(*) FROM (SELECT mentor_id FROM mentee GROUP BY mentor_id HAVING count(*) < 5) m"),
            1,
            "{what}"
        );
        assert!(db.scalar("SELECT count(*) FROM one_stop_help") > 0, "{what}");
        // A visit confirms a fact only where the person's row says it came from a team visit.
        assert_eq!(
            db.scalar(
                "SELECT count(*) FROM team_visit_person t JOIN person p ON p.id = t.person_id \
                 WHERE t.vneid_level2 = 1 AND (p.vneid_level IS NULL OR p.vneid_level <> 2 OR p.vneid_level_source <> 'team_visit')"
            ),
            0,
            "{what}"
        );
    }
}
