//! The public figures of a year: every unit's counters, through the disclosure control, once for the whole province.
//!
//! Every public view (the home page, `/thong-ke`, a commune's page, the open data and the anonymous answers of the
//! indicators API) reads the one [`Published`] built here. Suppressing per view would pick different complements in
//! different views, and the views together would give hidden figures away (`domain::disclosure`'s module doc).
//! Reads counters (`indicator_count`), targets and the unit tree only, never person rows: three queries per build.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::disclosure::{self, Cell, Tree};
use crate::domain::indicators::{Population, gap, targets, value};
use crate::domain::unit::PROVINCE_CODE;
use crate::on_pool;
use crate::store::Store;
use crate::store::memo::Memo;
use crate::tracking::api::IndicatorJson;

/// How long a year's figures are served before they are read again. The counters move with every pass; a minute
/// keeps the public pages cheap and makes one person's change harder to see by reading twice a few seconds apart.
pub const TTL: Duration = Duration::from_secs(60);

/// One unit as the public sees it.
#[derive(Debug, Clone)]
pub struct PublicUnit {
    pub code: String,
    pub name: String,
    /// `tinh`, `xa` or `thon`.
    pub level: String,
    pub parent: Option<String>,
    /// In the order of `targets.toml`, the indicators that have a target in the year.
    pub figures: Vec<IndicatorJson>,
}

/// The public figures of one year, for every unit, in tree order: the province, then each commune by code followed
/// by its villages by code (and, where the counters say so, a row of people in no known village).
#[derive(Debug, Clone)]
pub struct Published {
    pub year: i32,
    /// When the counters were read, seconds since the epoch.
    pub read_at: i64,
    pub units: Vec<PublicUnit>,
    index: HashMap<String, usize>,
}

impl Published {
    pub fn unit(&self, code: &str) -> Option<&PublicUnit> {
        self.index.get(code).map(|&i| &self.units[i])
    }

    pub fn province(&self) -> Option<&PublicUnit> {
        self.unit(PROVINCE_CODE)
    }

    pub fn children<'a>(&'a self, code: &'a str) -> impl Iterator<Item = &'a PublicUnit> + 'a {
        self.units.iter().filter(move |u| u.parent.as_deref() == Some(code))
    }
}

/// The public figures by year, each kept for [`TTL`] (`store::memo`: one rebuild at a time).
pub type Cache = Memo<i32, Published>;

/// An empty cache of the public figures.
pub fn cache() -> Cache {
    Memo::new(TTL)
}

/// The public figures of `year`, read at most [`TTL`] ago.
pub async fn published(store: &Store, cache: &Cache, year: i32) -> sqlx::Result<Arc<Published>> {
    cache.get(year, || build(store, year)).await
}

type UnitRow = (String, String, String, Option<String>);
type CountRow = (String, String, i64, i64);
type TargetRow = (String, String, f64);

struct Node {
    code: String,
    name: String,
    level: String,
    parent: Option<usize>,
    /// (numerator, denominator) per indicator of the year.
    counts: Vec<(i64, i64)>,
}

/// Reads the tree and the year's counters and publishes them.
pub async fn build(store: &Store, year: i32) -> sqlx::Result<Published> {
    let y = i64::from(year);
    let (units, counts, overrides): (Vec<UnitRow>, Vec<CountRow>, Vec<TargetRow>) = on_pool!(store, pool => {
        let units = sqlx::query_as("SELECT code, name, level, parent_code FROM unit ORDER BY code").fetch_all(pool).await?;
        let counts = sqlx::query_as(
            "SELECT unit_code, indicator, CAST(numerator AS BIGINT), CAST(denominator AS BIGINT) \
             FROM indicator_count WHERE year = $1",
        )
        .bind(y)
        .fetch_all(pool)
        .await?;
        let overrides = sqlx::query_as("SELECT unit_code, indicator, target FROM indicator_target WHERE year = $1")
            .bind(y)
            .fetch_all(pool)
            .await?;
        (units, counts, overrides)
    });
    Ok(assemble(year, units, counts, overrides))
}

fn assemble(year: i32, units: Vec<UnitRow>, counts: Vec<CountRow>, overrides: Vec<TargetRow>) -> Published {
    let indicators: Vec<_> = targets().indicators.iter().filter(|i| i.target(year).is_some()).collect();
    let position: HashMap<&str, usize> = indicators.iter().enumerate().map(|(n, i)| (i.code.as_str(), n)).collect();
    let mut by_unit: HashMap<&str, Vec<(i64, i64)>> = HashMap::new();
    for (unit, indicator, n, d) in &counts {
        if let Some(&at) = position.get(indicator.as_str()) {
            by_unit.entry(unit).or_insert_with(|| vec![(0, 0); indicators.len()])[at] = (*n, *d);
        }
    }
    let mut target_of: HashMap<(&str, &str), f64> = HashMap::new();
    for (unit, indicator, target) in &overrides {
        target_of.insert((unit, indicator), *target);
    }

    // The tree in order: depth first from the province, children by code (the query's order).
    let mut children: HashMap<&str, Vec<&UnitRow>> = HashMap::new();
    for row in &units {
        if let Some(parent) = &row.3 {
            children.entry(parent).or_default().push(row);
        }
    }
    let mut nodes: Vec<Node> = Vec::new();
    let zero = vec![(0, 0); indicators.len()];
    let node = |row: &UnitRow, parent| Node {
        code: row.0.clone(),
        name: row.1.clone(),
        level: row.2.clone(),
        parent,
        counts: by_unit.get(row.0.as_str()).unwrap_or(&zero).clone(),
    };
    if let Some(root) = units.iter().find(|u| u.0 == PROVINCE_CODE) {
        let mut stack = vec![(root, None)];
        while let Some((row, parent)) = stack.pop() {
            let at = nodes.len();
            nodes.push(node(row, parent));
            if let Some(kids) = children.get(row.0.as_str()) {
                stack.extend(kids.iter().rev().map(|k| (*k, Some(at))));
            }
        }
    }
    let nodes = with_residuals(nodes, indicators.len());

    // One tree per population, measures [denominator, numerator] of each of its indicators: a row is hidden for all
    // of them at once.
    let mut populations: Vec<Population> = Vec::new();
    for i in &indicators {
        if !populations.contains(&i.population) {
            populations.push(i.population);
        }
    }
    let mut hidden = vec![vec![true; indicators.len()]; nodes.len()];
    for population in populations {
        let members: Vec<usize> = (0..indicators.len()).filter(|&n| indicators[n].population == population).collect();
        let cells = nodes
            .iter()
            .map(|node| Cell {
                code: node.code.clone(),
                parent: node.parent,
                values: members
                    .iter()
                    .flat_map(|&m| {
                        let (n, d) = node.counts[m];
                        [d.max(0) as u64, n.max(0) as u64]
                    })
                    .collect(),
            })
            .collect();
        match Tree::new(cells) {
            Ok(tree) => {
                for (row, suppressed) in disclosure::suppression_mask(&tree).into_iter().enumerate() {
                    for &m in &members {
                        hidden[row][m] = suppressed;
                    }
                }
            }
            // Counters that do not add up are a bug to fix with `tracking rebuild`; meanwhile nothing of this
            // population is published, rather than figures whose protection does not hold.
            Err(e) => {
                tracing::warn!(error = %e, ?population, year, "public figures withheld: the counters do not add up")
            }
        }
    }

    let units: Vec<PublicUnit> = nodes
        .iter()
        .zip(hidden)
        .map(|(node, hidden)| PublicUnit {
            code: node.code.clone(),
            name: node.name.clone(),
            level: node.level.clone(),
            parent: node.parent.map(|p| nodes[p].code.clone()),
            figures: indicators
                .iter()
                .enumerate()
                .map(|(m, indicator)| {
                    let plan = indicator.target(year).unwrap_or_default();
                    let target = target_of.get(&(node.code.as_str(), indicator.code.as_str())).copied().unwrap_or(plan);
                    let (n, d) = node.counts[m];
                    let shown = !hidden[m];
                    IndicatorJson {
                        code: indicator.code.clone(),
                        name: indicator.name_vi.clone(),
                        numerator: shown.then_some(n),
                        denominator: shown.then_some(d),
                        value: if shown { value(n, d) } else { None },
                        target,
                        gap: shown.then(|| gap(target, n, d)),
                        suppressed: !shown,
                    }
                })
                .collect(),
        })
        .collect();
    let index = units.iter().enumerate().map(|(i, u)| (u.code.clone(), i)).collect();
    Published { year, read_at: crate::domain::time::now(), units, index }
}

/// The code of the row that holds a unit's people counted in none of its children.
pub fn residual_code(parent: &str) -> String {
    format!("{parent}-khac")
}

/// Adds, after the children of each unit whose counters exceed their sum, a row with the difference (people in no
/// known village), so that every parent is the sum of its children as the disclosure control requires. A negative
/// difference is kept as is: the tree is then refused and nothing of it is published.
fn with_residuals(nodes: Vec<Node>, width: usize) -> Vec<Node> {
    let mut sums: Vec<Option<Vec<(i64, i64)>>> = vec![None; nodes.len()];
    for node in &nodes {
        if let Some(p) = node.parent {
            let sum = sums[p].get_or_insert_with(|| vec![(0, 0); width]);
            for (s, c) in sum.iter_mut().zip(&node.counts) {
                s.0 += c.0;
                s.1 += c.1;
            }
        }
    }
    let residual: Vec<Option<Vec<(i64, i64)>>> = nodes
        .iter()
        .zip(&sums)
        .map(|(node, sum)| {
            let sum = sum.as_ref()?;
            let diff: Vec<(i64, i64)> = node.counts.iter().zip(sum).map(|(c, s)| (c.0 - s.0, c.1 - s.1)).collect();
            diff.iter().any(|&(n, d)| n != 0 || d != 0).then_some(diff)
        })
        .collect();
    if residual.iter().all(Option::is_none) {
        return nodes;
    }
    // The last descendant of each unit, where its residual row goes (so that the order stays depth first).
    let mut last = (0..nodes.len()).collect::<Vec<_>>();
    for i in (0..nodes.len()).rev() {
        if let Some(p) = nodes[i].parent {
            last[p] = last[p].max(last[i]);
        }
    }
    let mut after: HashMap<usize, Vec<usize>> = HashMap::new();
    for (p, r) in residual.iter().enumerate() {
        if r.is_some() {
            after.entry(last[p]).or_default().push(p);
        }
    }
    let mut map = vec![0; nodes.len()];
    let mut out: Vec<Node> = Vec::with_capacity(nodes.len() + after.len());
    let mut residual = residual;
    for (i, mut node) in nodes.into_iter().enumerate() {
        map[i] = out.len();
        node.parent = node.parent.map(|p| map[p]);
        out.push(node);
        // Deepest parents first: a village's commune closes before the province.
        let mut parents = after.remove(&i).unwrap_or_default();
        parents.sort_by(|a, b| b.cmp(a));
        for p in parents {
            let parent = &out[map[p]];
            let (code, level) = (parent.code.clone(), if parent.level == "tinh" { "xa" } else { "thon" });
            out.push(Node {
                code: residual_code(&code),
                name: if level == "xa" {
                    "Chưa rõ xã, phường".into()
                } else {
                    "Chưa rõ thôn, tổ dân phố".into()
                },
                level: level.into(),
                parent: Some(map[p]),
                counts: residual[p].take().unwrap_or_default(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(code: &str, level: &str, parent: Option<&str>) -> UnitRow {
        (code.into(), code.into(), level.into(), parent.map(Into::into))
    }

    #[test]
    fn people_in_no_village_get_a_row_of_their_own_and_the_tree_adds_up() {
        let units = vec![
            unit("04792", "xa", Some("25")),
            unit("04792-001", "thon", Some("04792")),
            unit("04795", "xa", Some("25")),
            unit("25", "tinh", None),
        ];
        let code = "nguoi_truong_thanh_ky_nang_so";
        let counts = vec![
            ("25".into(), code.into(), 30, 100),
            ("04792".into(), code.into(), 20, 60),
            ("04792-001".into(), code.into(), 15, 45),
            ("04795".into(), code.into(), 10, 40),
        ];
        let p = assemble(2025, units, counts, vec![]);
        let codes: Vec<&str> = p.units.iter().map(|u| u.code.as_str()).collect();
        assert_eq!(codes, ["25", "04792", "04792-001", "04792-khac", "04795"]);
        let adults = |c: &str| p.unit(c).unwrap().figures.iter().find(|f| f.code == code).unwrap().clone();
        // 5 of 15 in no village: small, hidden, and its only sibling with it.
        assert!(adults("04792-khac").suppressed);
        assert!(adults("04792-001").suppressed);
        assert_eq!(adults("04792").numerator, Some(20));
        assert_eq!(adults("25").denominator, Some(100));
        assert_eq!(p.children("04792").count(), 2);
    }

    #[test]
    fn counters_that_do_not_add_up_publish_nothing_of_their_population() {
        let units = vec![unit("04792", "xa", Some("25")), unit("25", "tinh", None)];
        let code = "nguoi_truong_thanh_ky_nang_so";
        let counts = vec![("25".into(), code.into(), 30, 100), ("04792".into(), code.into(), 40, 120)];
        let p = assemble(2025, units, counts, vec![]);
        assert!(p.units.iter().flat_map(|u| &u.figures).filter(|f| f.code == code).all(|f| f.suppressed));
        assert!(p.units.iter().flat_map(|u| &u.figures).filter(|f| f.code == "xac_nhan_vneid").all(|f| f.suppressed));
        // Another population is unaffected.
        assert!(!p.province().unwrap().figures.iter().find(|f| f.code == "gia_dinh_so").unwrap().suppressed);
    }
}
