//! Disclosure control for public statistics (plan IV.1.3): no count of fewer than 10 people is published, and no
//! hidden count can be worked out exactly from the published ones by adding or subtracting along the unit tree.
//!
//! A table is a tree of rows (province → communes → villages), each parent the sum of its children, and each row
//! carries several measures side by side (an indicator's denominator and numerator, or several indicators over the
//! same population). Decisions, and why:
//! - A row is hidden or published **as a whole**: a published share beside a published denominator gives the
//!   numerator, and two indicators over the same population give each other's denominator, so hiding one measure of a
//!   row alone protects nothing. Callers therefore put every indicator that shares a population into one table.
//! - A row is primary-suppressed when any measure is in `1..MIN_PUBLISHED`. Zero is published: it says nobody in the
//!   unit has the attribute, which is the figure the movement needs to find units that have not started, and a row
//!   with a small population is hidden anyway through its small denominator.
//! - Complementary suppression: in every sum relation (a parent and its children) where exactly one row is hidden,
//!   hide the smallest other row that is not all zeros (hiding a zero adds no doubt worth the loss), preferring rows
//!   with no zero measure, so that the hidden pair's sum is not simply the small figure. Repeat until stable, then
//!   publish again any complementary row that turned out not to be needed.
//! - Each sum relation is then left with zero or at least two hidden rows. In a tree of sums that is exactly the
//!   condition for no hidden figure to be determined (each hidden row is an edge of a graph whose vertices are the sum
//!   relations; a figure is determined iff its edge is a bridge), and [`recoverable`] checks it independently by
//!   Gaussian elimination. Bounds are not protected: a hidden pair's known sum still bounds both figures. Nor is the
//!   difference of two measures of a published row (adults not yet passed): a caller who wants one protected adds it
//!   as a measure of its own.

use std::fmt;

use serde::{Serialize, Serializer};

/// Counts from 1 to `MIN_PUBLISHED - 1` people are never published.
pub const MIN_PUBLISHED: u64 = 10;

/// The footnote beside every hidden figure. It does not say which hidden figures are under 10: telling the small ones
/// from their complements would narrow what each can be.
pub const FOOTNOTE_VI: &str =
    "— : số liệu được ẩn vì dưới 10 người, hoặc để không thể suy ra một số liệu đã ẩn từ các tổng đã công bố.";
pub const FOOTNOTE_EN: &str =
    "— : hidden because it counts fewer than 10 people, or so that no hidden figure can be worked out from the totals.";

/// One row of the table: a unit and its measures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub code: String,
    /// Index of the parent row; `None` only for the root, which comes first.
    pub parent: Option<usize>,
    /// One value per measure, in the same order in every row.
    pub values: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("the table must start with its only root")]
    Root,
    #[error("row {0}: its parent must come before it")]
    Order(String),
    #[error("row {0}: not the same number of measures as the root")]
    Measures(String),
    #[error("row {code}: measure {measure} is not the sum of its children")]
    Sum { code: String, measure: usize },
}

/// A table whose sums have been checked: the guarantees hold only when every parent is the sum of its children, so a
/// table that does not add up (people with no village, say, left out of the villages) is refused rather than
/// published. Such people go into an explicit child row ("chưa rõ thôn").
#[derive(Debug, Clone)]
pub struct Tree {
    cells: Vec<Cell>,
    children: Vec<Vec<usize>>,
}

impl Tree {
    pub fn new(cells: Vec<Cell>) -> Result<Self, TreeError> {
        let measures = cells.first().ok_or(TreeError::Root)?.values.len();
        let mut children = vec![Vec::new(); cells.len()];
        for (i, cell) in cells.iter().enumerate() {
            match cell.parent {
                None if i == 0 => {}
                None => return Err(TreeError::Root),
                Some(p) if p < i => children[p].push(i),
                Some(_) => return Err(TreeError::Order(cell.code.clone())),
            }
            if cell.values.len() != measures {
                return Err(TreeError::Measures(cell.code.clone()));
            }
        }
        for (p, kids) in children.iter().enumerate().filter(|(_, kids)| !kids.is_empty()) {
            for measure in 0..measures {
                let sum: u128 = kids.iter().map(|&c| u128::from(cells[c].values[measure])).sum();
                if sum != u128::from(cells[p].values[measure]) {
                    return Err(TreeError::Sum { code: cells[p].code.clone(), measure });
                }
            }
        }
        Ok(Self { cells, children })
    }

    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The sum relations, each as its parent and its children.
    fn families(&self) -> impl Iterator<Item = (usize, &[usize])> {
        self.children.iter().enumerate().filter(|(_, kids)| !kids.is_empty()).map(|(p, kids)| (p, kids.as_slice()))
    }

    /// The members of the sum relation whose parent is `p` (none when `p` is a leaf).
    fn family(&self, p: usize) -> impl Iterator<Item = usize> + '_ {
        let kids = &self.children[p];
        (!kids.is_empty()).then_some(p).into_iter().chain(kids.iter().copied())
    }
}

/// A figure as the public sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    Published(u64),
    Suppressed,
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Published(n) => write!(f, "{n}"),
            Self::Suppressed => f.write_str("—"),
        }
    }
}

/// A number or `null`, so that open data carries no placeholder text in numeric columns.
impl Serialize for Figure {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Published(n) => serializer.serialize_u64(*n),
            Self::Suppressed => serializer.serialize_none(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub code: String,
    pub suppressed: bool,
    /// In the table's measure order.
    pub figures: Vec<Figure>,
}

/// The publishable table: one row per row of the tree, in the tree's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Published {
    pub rows: Vec<Row>,
}

impl Published {
    pub fn row(&self, code: &str) -> Option<&Row> {
        self.rows.iter().find(|row| row.code == code)
    }
}

/// Whether a row is hidden by the primary rule.
pub fn is_small(cell: &Cell) -> bool {
    cell.values.iter().any(|v| (1..MIN_PUBLISHED).contains(v))
}

pub fn suppress(tree: &Tree) -> Published {
    let hidden = suppression_mask(tree);
    let rows = tree.cells.iter().zip(hidden).map(|(cell, suppressed)| Row {
        code: cell.code.clone(),
        suppressed,
        figures: cell
            .values
            .iter()
            .map(|&v| if suppressed { Figure::Suppressed } else { Figure::Published(v) })
            .collect(),
    });
    Published { rows: rows.collect() }
}

/// Which rows to hide, in the tree's order.
pub fn suppression_mask(tree: &Tree) -> Vec<bool> {
    let cells = &tree.cells;
    let mut hidden: Vec<bool> = cells.iter().map(is_small).collect();
    // Hide rows that lie lowest first: a hidden village forces its commune's relation, which may then already hold two.
    let families: Vec<(usize, &[usize])> = tree.families().collect();
    let key = |c: usize| {
        let values = &cells[c].values;
        (values.contains(&0), values.iter().map(|&v| u128::from(v)).sum::<u128>(), c)
    };
    let mut complementary = Vec::new();
    loop {
        let mut changed = false;
        for &(p, kids) in families.iter().rev() {
            if tree.family(p).filter(|&c| hidden[c]).count() != 1 {
                continue;
            }
            let open = kids.iter().copied().filter(|&c| !hidden[c] && cells[c].values.iter().any(|&v| v > 0));
            // Every hidden row has a non-zero figure, so a parent hidden alone always leaves a child to pick. The
            // parent itself goes when a hidden child has only zero siblings, which a table that adds up never has
            // (the parent would equal that child, hence be small and hidden too): it keeps the rule total.
            let Some(pick) = open.min_by_key(|&c| key(c)).or((!hidden[p]).then_some(p)) else { continue };
            hidden[pick] = true;
            complementary.push(pick);
            changed = true;
        }
        if !changed {
            break;
        }
    }
    // Publish again, latest first, what is no longer needed: both its relations keep two hidden rows without it.
    for &c in complementary.iter().rev() {
        let mut relations = cells[c].parent.into_iter().chain(Some(c));
        let spare = |p: usize| {
            let count = tree.family(p).filter(|&m| hidden[m]).count();
            count == 0 || count >= 3
        };
        if relations.all(spare) {
            hidden[c] = false;
        }
    }
    hidden
}

/// For each row, whether some hidden figure of it is determined by the published figures and the sums. Deliberately
/// blind to how the figures were hidden: it reads only `published`, builds the linear system of each measure (one
/// equation per sum relation, restricted to the unknowns) and reduces it over exact integers. A figure is determined
/// iff its unit vector lies in the row space, i.e. iff its pivot row has no other non-zero entry (the published values
/// only move the right-hand side, which does not change what is determined). A figure missing from `published` counts
/// as known, so a mismatched table errs towards finding more.
pub fn recoverable(tree: &Tree, published: &Published) -> Vec<bool> {
    let n = tree.cells.len();
    let mut found = vec![false; n];
    for measure in 0..tree.cells.first().map_or(0, |c| c.values.len()) {
        let hidden = |i: usize| published.rows.get(i).and_then(|r| r.figures.get(measure)) == Some(&Figure::Suppressed);
        let unknown: Vec<usize> = (0..n).filter(|&i| hidden(i)).collect();
        let mut column = vec![None; n];
        for (j, &cell) in unknown.iter().enumerate() {
            column[cell] = Some(j);
        }
        let mut rows: Vec<Vec<i128>> = tree
            .families()
            .map(|(p, kids)| {
                let mut row = vec![0i128; unknown.len()];
                if let Some(j) = column[p] {
                    row[j] += 1;
                }
                kids.iter().filter_map(|&c| column[c]).for_each(|j| row[j] -= 1);
                row
            })
            .collect();
        let mut pivots = Vec::new();
        for col in 0..unknown.len() {
            let Some(at) = (pivots.len()..rows.len()).find(|&r| rows[r][col] != 0) else { continue };
            rows.swap(pivots.len(), at);
            let pivot = rows[pivots.len()].clone();
            for (r, row) in rows.iter_mut().enumerate() {
                if r != pivots.len() && row[col] != 0 {
                    let factor = row[col];
                    row.iter_mut().zip(&pivot).for_each(|(x, &y)| *x = *x * pivot[col] - y * factor);
                    let g = row.iter().fold(0, |g, &x| gcd(g, x.abs()));
                    row.iter_mut().for_each(|x| *x /= g.max(1));
                }
            }
            pivots.push(col);
        }
        for (r, &col) in pivots.iter().enumerate() {
            if rows[r].iter().enumerate().all(|(j, &x)| j == col || x == 0) {
                found[unknown[col]] = true;
            }
        }
    }
    found
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    type Commune = (Vec<u64>, Vec<Vec<u64>>);

    /// Province "25" over communes "x1", "x2", …, each a leaf with its own values or the sum of its villages "x1.1", ….
    fn province(communes: &[Commune]) -> Tree {
        let width =
            communes.iter().flat_map(|(own, villages)| villages.iter().chain([own])).map(Vec::len).max().unwrap();
        let sum = |rows: &[&Vec<u64>]| (0..width).map(|m| rows.iter().map(|r| r[m]).sum()).collect::<Vec<u64>>();
        let mut cells = vec![Cell { code: "25".into(), parent: None, values: vec![] }];
        let mut tops = Vec::new();
        for (i, (own, villages)) in communes.iter().enumerate() {
            let at = cells.len();
            let values = if villages.is_empty() { own.clone() } else { sum(&villages.iter().collect::<Vec<_>>()) };
            cells.push(Cell { code: format!("x{}", i + 1), parent: Some(0), values });
            for (j, v) in villages.iter().enumerate() {
                cells.push(Cell { code: format!("x{}.{}", i + 1, j + 1), parent: Some(at), values: v.clone() });
            }
            tops.push(at);
        }
        cells[0].values = sum(&tops.iter().map(|&t| &cells[t].values).collect::<Vec<_>>());
        Tree::new(cells).unwrap()
    }

    fn leaf(value: u64) -> Commune {
        (vec![value], vec![])
    }

    fn with_villages(values: &[u64]) -> Commune {
        (vec![], values.iter().map(|&v| vec![v]).collect())
    }

    fn hidden(tree: &Tree) -> Vec<String> {
        suppress(tree).rows.into_iter().filter(|r| r.suppressed).map(|r| r.code).collect()
    }

    fn publish(tree: &Tree, mask: &[bool]) -> Published {
        let figure = |v: u64, h: bool| if h { Figure::Suppressed } else { Figure::Published(v) };
        let rows = tree.cells().iter().zip(mask).map(|(c, &h)| Row {
            code: c.code.clone(),
            suppressed: h,
            figures: c.values.iter().map(|&v| figure(v, h)).collect(),
        });
        Published { rows: rows.collect() }
    }

    #[test]
    fn a_table_without_small_counts_is_published_whole_zeros_included() {
        let tree = province(&[leaf(0), with_villages(&[10, 0, 25]), leaf(40)]);
        assert!(hidden(&tree).is_empty());
    }

    #[test]
    fn one_small_commune_takes_the_smallest_other_commune_with_it() {
        assert_eq!(hidden(&province(&[leaf(5), leaf(40), leaf(20), leaf(0)])), ["x1", "x3"]);
    }

    #[test]
    fn a_single_small_village_takes_its_smallest_sibling_and_the_commune_stays() {
        let tree = province(&[with_villages(&[4, 30, 12]), leaf(50)]);
        assert_eq!(hidden(&tree), ["x1.1", "x1.3"]);
    }

    #[test]
    fn a_small_village_among_zeros_hides_its_commune_and_so_a_second_commune() {
        let tree = province(&[with_villages(&[4, 0]), leaf(60), leaf(25)]);
        assert_eq!(hidden(&tree), ["x1", "x1.1", "x3"]);
    }

    #[test]
    fn a_hidden_commune_never_keeps_all_its_villages_published() {
        let tree = province(&[leaf(5), with_villages(&[20, 30, 40])]);
        assert_eq!(hidden(&tree), ["x1", "x2", "x2.1"]);
    }

    #[test]
    fn a_complement_made_unneeded_by_a_later_one_is_published_again() {
        // The village pass hides x2.1 beside x2.3; the province pass then hides x2, which covers x2.1 alone.
        let tree = province(&[leaf(5), with_villages(&[3, 40, 25]), leaf(100)]);
        assert_eq!(hidden(&tree), ["x1", "x2", "x2.1"]);
    }

    #[test]
    fn linked_measures_are_hidden_together_and_a_complement_with_no_zero_is_preferred() {
        // Denominator and numerator: x1's numerator is small; x2 is smaller but its zero numerator would leave the
        // hidden numerators summing to x1's own.
        let tree = province(&[(vec![200, 3], vec![]), (vec![12, 0], vec![]), (vec![60, 20], vec![])]);
        let published = suppress(&tree);
        assert_eq!(hidden(&tree), ["x1", "x3"]);
        assert_eq!(
            serde_json::to_value(published.row("x1").unwrap()).unwrap()["figures"],
            serde_json::json!([null, null])
        );
        assert_eq!(published.row("x2").unwrap().figures, [Figure::Published(12), Figure::Published(0)]);
        assert_eq!(format!("{} {}", Figure::Suppressed, Figure::Published(12)), "— 12");
    }

    #[test]
    fn the_verifier_finds_what_subtraction_reveals() {
        let tree = province(&[with_villages(&[20, 30]), leaf(40), leaf(50)]);
        let codes = ["25", "x1", "x1.1", "x1.2", "x2", "x3"];
        let found = |hide: &[&str]| {
            let mask: Vec<bool> = codes.iter().map(|c| hide.contains(c)).collect();
            let found = recoverable(&tree, &publish(&tree, &mask));
            codes.iter().zip(found).filter(|(_, f)| *f).map(|(c, _)| *c).collect::<Vec<_>>()
        };
        assert_eq!(found(&["x1.1"]), ["x1.1"]);
        assert_eq!(found(&["x1"]), ["x1"]);
        assert_eq!(found(&["x1", "x1.1"]), ["x1", "x1.1"]); // x1 from the province, then x1.1 from x1
        assert!(found(&["x1", "x2", "x1.1"]).is_empty());
        assert!(found(&["x1", "x2", "x1.1", "x1.2"]).is_empty());
        assert!(found(&["x2", "x3"]).is_empty());
    }

    #[test]
    fn a_table_that_does_not_add_up_is_refused() {
        let cell = |code: &str, parent, v| Cell { code: code.into(), parent, values: vec![v] };
        let err = Tree::new(vec![cell("25", None, 10), cell("x1", Some(0), 9)]).unwrap_err();
        assert_eq!(err, TreeError::Sum { code: "25".into(), measure: 0 });
        assert_eq!(
            Tree::new(vec![cell("x1", Some(1), 9), cell("25", None, 9)]).unwrap_err(),
            TreeError::Order("x1".into())
        );
    }

    /// Counts from 0 to 39, a third of them under 10 and a third zero.
    fn count() -> BoxedStrategy<u64> {
        prop_oneof![Just(0u64), 1u64..10, 10u64..40].boxed()
    }

    /// Denominator and numerator.
    fn pair(count: BoxedStrategy<u64>) -> impl Strategy<Value = Vec<u64>> {
        (count.clone(), count).prop_map(|(a, b)| vec![a.max(b), a.min(b)])
    }

    fn table(count: BoxedStrategy<u64>) -> impl Strategy<Value = Tree> {
        vec((pair(count.clone()), vec(pair(count), 0..=6)), 2..=8).prop_map(|communes| province(&communes))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn small_counts_are_hidden_none_can_be_recovered_and_no_complement_is_spare(tree in table(count())) {
            let published = suppress(&tree);
            for (cell, row) in tree.cells().iter().zip(&published.rows) {
                prop_assert!(!is_small(cell) || row.suppressed, "{} is small and published", cell.code);
                let shown: Vec<Figure> = cell.values.iter().map(|&v| Figure::Published(v)).collect();
                prop_assert!(row.suppressed || row.figures == shown);
                prop_assert!(!row.suppressed || row.figures.iter().all(|f| *f == Figure::Suppressed));
            }
            prop_assert!(!recoverable(&tree, &published).contains(&true));
            // Each complementary row is needed: publishing it again lets some hidden figure be worked out.
            let mask: Vec<bool> = published.rows.iter().map(|r| r.suppressed).collect();
            for (i, cell) in tree.cells().iter().enumerate().filter(|&(i, c)| mask[i] && !is_small(c)) {
                let mut fewer = mask.clone();
                fewer[i] = false;
                prop_assert!(recoverable(&tree, &publish(&tree, &fewer)).contains(&true), "{} is spare", cell.code);
            }
        }

        #[test]
        fn a_table_without_small_counts_is_published_whole(tree in table(prop_oneof![Just(0u64), 10u64..40].boxed())) {
            prop_assert!(suppress(&tree).rows.iter().all(|r| !r.suppressed));
        }
    }
}
